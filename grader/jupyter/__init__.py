"""%grade in Jupyter: grading the cells a kernel has run, outside the kernel.

``%load_ext grader`` (``grader.load_ipython_extension``) registers the magic (``magic``) and starts,
beside the kernel, a grading process of its own (``service``): it keeps the assignment's checks
loaded and a warm sandbox zygote for the kernel's lifetime. ``%grade`` sends it the text of the
cells the kernel has run, in the order they ran; it grades them as a notebook is graded (each
cell a unit, run in a fresh sandbox worker) and answers with the report, as HTML from the
feedback pages' writer and as text. The two talk through ``protocol``.

Nothing is graded in the kernel: it runs the student's code, so anything decided there could be
changed by that code. The kernel only collects text and shows the answer.
"""
