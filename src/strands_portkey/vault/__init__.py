"""The credential vault: encryption, stored keys, masking and the credential selector.

Modules: :mod:`.crypto` (AES-256-GCM envelope), :mod:`.keys` (stored keys), :mod:`.fields`
(credential types, masking), :mod:`.selector` (smooth weighted round-robin).

Nothing is imported here, so ``import strands_portkey`` never loads ``cryptography`` or SQLAlchemy.
"""
