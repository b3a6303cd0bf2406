"""The store's roles, one small facade each over the shared :class:`~c2watch.store.database.Database`:
``watchlist``, ``observations``, ``reports``, ``access`` (organisations, tokens), ``taxii`` (the hub's objects),
``outbox`` (the agent's side of sync), ``keys`` (observers' public keys), ``verdicts``, ``events`` (and webhook
delivery) and ``maintenance``."""
