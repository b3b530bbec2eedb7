"""Billing emails: the second consumer of the outbox, beside the webhook endpoints.

Facts (a payment succeeded or failed, a trial ending, a subscription canceled or ended, a
webhook endpoint disabled) become emails rendered from Jinja2 templates and sent over SMTP
(:mod:`worker`); each is recorded as sent, failed or skipped and listed through the API
(:mod:`listing`). This package alone writes the ``emails`` table.
"""
