"""The ``rag`` command line: ``main`` (the click group), ``news`` (filters, ``rag timeline``)
and ``terminal`` (safe output, progress bars). Commands build their parts through
``rag.factory``; nothing is imported here.
"""
