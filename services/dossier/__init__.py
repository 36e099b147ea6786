"""The dossier's own lifecycle, which intake, workflow and notification build on (issue 13).

It sits below the features and above sla / outbox (the layers contract in pyproject.toml). What two
features share lives here, so they never import each other:

- ``access``: the one access rule (who may see a dossier, who may act on it now);
- ``steps``: the routing rule behind it (where a dossier stands, what its step allows and to whom);
- ``filing``, ``lifecycle``, ``payments``: filing, receipt, the desk's decisions, supplement,
  withdrawal, the payment request — each state change guarded (``require_state``);
- ``record``: the hand-over line and ``announce``, whose ``source`` is the calling service's;
- ``notes``, ``catalogued``, ``secrets``, ``postal``: note codes, what the catalogue says of a
  dossier, the citizen's secret, a result the post brought back;
- ``schemas``, ``views``: the dossier as filed and as answered; ``forms``, ``printing``: the PDFs, and a
  dossier's form printed for staff (access rule, audited);
- ``files``, ``documents``: uploaded files stored on disk and recorded as the dossier's documents.
"""
