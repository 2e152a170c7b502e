"""The mock MOM bus: the HTTP edge, envelope, auth, catalog, store, journal, delivery, flows and status page.

It imports nothing of momlab outside this package except momlab.data (which only locates data files)."""
