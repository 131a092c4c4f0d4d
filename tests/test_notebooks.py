"""Notebook twins are generated from percent-format templates, reproducibly."""

import nbformat

from grader.notebooks import notebook_from_percent, render

TEMPLATE = """# %% [markdown]
# # Title
#
# Some *text*.

# %%
import numpy as np

# %%
def f(x):
    # YOUR CODE HERE
    raise NotImplementedError
"""


def test_cells_follow_the_markers():
    notebook = notebook_from_percent(TEMPLATE)
    assert [(c.cell_type, c.source) for c in notebook.cells] == [
        ("markdown", "# Title\n\nSome *text*."),
        ("code", "import numpy as np"),
        ("code", "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError"),
    ]
    nbformat.validate(notebook)


def test_rendering_is_byte_for_byte_reproducible():
    assert render(TEMPLATE) == render(TEMPLATE)
