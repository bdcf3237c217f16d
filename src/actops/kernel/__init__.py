"""Rules shared by `actops check` and the jobs: typed settings and contradiction checks (REL-2).

Everything here is pure (no I/O): callers read rows, these modules say what is wrong.
"""
