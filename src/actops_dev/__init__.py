"""Dev-only tooling, kept out of the runtime's import path (``actops`` never imports this).

The local NocoDB (``stack``, ``nocodb_install``), stand-ins for mail and WeCom (``catcher``),
the deterministic sample company (``sample``, ``seed``) and ``actops demo`` (``demo``,
``demo_flows``). The CLI reaches these lazily, inside the commands that need them.
"""
