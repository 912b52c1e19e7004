"""What the kernel and the driver agree on: the result line's marker and the nonce file's variable.

Side-effect free, so the driver can import it without capturing anything or
touching the nonce.
"""
from __future__ import annotations

MARKER = "@@AUTOGRADER-RESULT@@"
NONCE_ENV = "AUTOGRADER_NONCE_FILE"
