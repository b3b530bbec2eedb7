"""What an operator reads: every customer, ownership and Stripe event, searchable and paged,
and the business figures computed from plangate's own tables. Reads only; actions go through
the capabilities that own the rows."""
