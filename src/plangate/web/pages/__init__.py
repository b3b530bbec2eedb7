"""The customers' hosted pages: the pricing page of each product line (``/pricing``), and
the public assets an app embeds (``/static/pricing-table.js``)."""
