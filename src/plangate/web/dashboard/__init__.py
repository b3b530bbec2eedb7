"""The operators' dashboard: sign-in, overview, customers and the actions on them."""
