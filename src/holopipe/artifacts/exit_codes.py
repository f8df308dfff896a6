"""The plan's exit-code contract (section 2.1), one type for every layer.

Examples
--------
>>> ExitCode.of_status("WARNING")
<ExitCode.WARNING: 1>
>>> ExitCode.from_code(2).status, ExitCode.from_code(-9).status
('INCOMPLETE', 'ERROR')
>>> int(max(ExitCode.OK, ExitCode.INCOMPLETE))
2
"""

from __future__ import annotations

import enum

__all__ = ["ExitCode"]


class ExitCode(enum.IntEnum):
    """What a holopipe command, a stage or a validation ends with.

    ``OK`` 0; ``WARNING`` 1 (partial but usable); ``INCOMPLETE`` 2 (missing or invalid
    input: do not continue); ``ERROR`` 3 (a bug or unrecoverable failure); ``INTERRUPTED``
    130 (Ctrl-C, 128 + SIGINT as in the shell).
    """

    OK = 0
    WARNING = 1
    INCOMPLETE = 2
    ERROR = 3
    INTERRUPTED = 130

    @property
    def status(self) -> str:
        """The status word recorded in summaries (``"OK"``, ..., ``"ERROR"``)."""
        return self.name

    @property
    def published(self) -> bool:
        """Whether a stage that ended so publishes its outputs (OK or WARNING)."""
        return self in (ExitCode.OK, ExitCode.WARNING)

    @classmethod
    def of_status(cls, status: str) -> ExitCode:
        """The code of a status word; raises ``KeyError`` for an unknown one."""
        return cls[status]

    @classmethod
    def from_code(cls, code: int) -> ExitCode:
        """The member for a process exit code; anything unknown (a signal, -9) is ERROR."""
        try:
            return cls(code)
        except ValueError:
            return cls.ERROR
