"""Backbone shared by the MES services: event contracts, outbox/inbox plumbing, settings, auth, observability."""
