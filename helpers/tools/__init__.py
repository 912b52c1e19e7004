"""TA and instructor tools: nothing here is imported by a student's notebook.

* :mod:`helpers.tools.reveals` (``python -m helpers reveals``): re-render the notebooks' reveal
  numbers from the artifacts; the facts it renders come from :mod:`helpers.tools.reveal_facts`
  and the qualitative claims it checks from :mod:`helpers.tools.reveal_claims`.
* :mod:`helpers.tools.demo` (``python -m helpers demo``): the headline table and plots.
* :mod:`helpers.tools.notebook_run`: execute the solution notebooks and write them as HTML.
"""
