"""The dossier's own lifecycle, which intake, workflow and notification build on (issue 13).

It sits below the three features and above sla / outbox: ``access`` (the one access rule),
``steps`` (the routing rule: where a dossier stands and who may act), and the lifecycle modules.
The features never import each other; what two of them share lives here.
"""
