"""The local service stack: installs, configures, starts and stops real services on 127.0.0.1.

Each service lives in `stack/services/<name>.py` as a `Service` subclass; `stack.manager`
orders them. Non-Python assets sit beside them: `stack/solr_node/` (the Maven module that
builds a Solr node), `stack/ckan/` and `stack/label_studio/` (pinned requirements, templates).
"""
