"""The notebooks, and the two tools that keep them honest: :mod:`notebooks.execute` runs each in
a real Jupyter kernel and saves its outputs (which the tests check are current), and
:mod:`notebooks.screenshots` shows them as a reader sees them, in a browser."""
