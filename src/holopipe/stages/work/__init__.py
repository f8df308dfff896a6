"""The work of the reference stages: what each one does when it runs.

``holopipe.stages.<sNN_name>`` declares a stage (id, version, inputs, outputs, ``Params``);
its ``run`` imports ``holopipe.stages.work.<sNN_name>``, which holds the science calls and the
artifacts it builds. Planning a run, checking what is up to date and documenting the config
read the declarations alone, so they never load the work of a stage that does not run.
"""
