"""The FUNCTION HOST: student functions run in a separate, sandboxed process; probes run in the driver.

Why: a probe that runs inside the student's kernel shares it with the student's code,
which can rebind the probe, read its nonce, forge its line, switch off its profiler or
answer its fixed inputs from a table.  Here the trusted driver (``JudgeHiddenTests``)
starts a host process (``client.FunctionHost``) in the same bubblewrap shape as the grading
kernel, but without the real ``helpers`` (it imports the grading build, where every
reference of a graded skill is a stub) and without the answer key, the expected values or
the course secret.  The host execs the student's graded cells and answers calls with fixed
adapters (``adapters``); the wire format (``codec``) is JSON in numbered frames, no pickle.

Host side: ``loop``, ``codec``, ``adapters`` (and ``autograder.kernel.pristine``/``encoding``).
Driver side: ``client``, ``grading_build``.
"""
