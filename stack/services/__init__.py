"""One module per service of the local stack; `stack.manager` discovers them.

Adding a service means adding one module here with a `Service` subclass.
"""
