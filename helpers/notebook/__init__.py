"""What the week's notebooks call, in one place (students read these with ``help()``).

* :mod:`helpers.notebook.setup_env`: the first cell's set-up (``setup``; ``install_helpers``,
  whose source the first cell carries, and ``INSTALL_SPEC``, where Kaggle installs from);
* :mod:`helpers.notebook.display`: ``show``, ``showfig``, ``label``: tables and figures that
  say which data they come from;
* :mod:`helpers.notebook.predict`: predict-then-observe (``predict``, ``require``,
  ``observe``, ``reveal``) and the record the autograder's report reads back;
* :mod:`helpers.notebook.answers`: self-checks of structured answers (``check_carry_over``,
  ``check_wildcard``).

The analysis itself (``helpers.kd``, ``metrics``, ``calibration``, ``bootstrap``, ``plots``,
``deploy``) stays at the top of ``helpers``.
"""
