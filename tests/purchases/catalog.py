"""The catalog the purchase tests sell: a user line with three plans (two intervals for pro),
a team line whose plans differ in seats, and an add-on."""

CATALOG = """
[features.export]
name = "Export"

[features.sso]
name = "SSO"

[items.credits]
name = "Credits"

[items.seats]
name = "Seats"

[lines.plan]
name = "Plan"
customer_type = "user"

[lines.team_plan]
name = "Team plan"
customer_type = "team"

[products.free]
name = "Free"
customer_type = "user"
line = "plan"
default = true
items.credits = { quantity = 10, repeat = "month", expires = "when_repeated" }

[products.basic]
name = "Basic"
customer_type = "user"
line = "plan"
items.credits = { quantity = 100, repeat = "month", expires = "when_repeated" }

[products.basic.prices.monthly]
amounts = { usd = "9.99", eur = "9.00" }
interval = "month"

[products.pro]
name = "Pro"
customer_type = "user"
line = "plan"
features = ["export"]
items.credits = { quantity = 1000, repeat = "month", expires = "when_repeated" }

[products.pro.prices.monthly]
amounts = { usd = "19.99", eur = "18.00" }
interval = "month"

[products.pro.prices.yearly]
amounts = { usd = "199.00" }
interval = "year"

[products.max]
name = "Max"
customer_type = "user"
line = "plan"
features = ["export", "sso"]
items.credits = { quantity = 5000, repeat = "month", expires = "when_repeated" }

[products.max.prices.monthly]
amounts = { usd = "49.99" }
interval = "month"

[products.vip]
name = "VIP"
customer_type = "user"
line = "plan"
server_only = true
features = ["export", "sso"]

[products.vip.prices.monthly]
amounts = { usd = "999.00" }
interval = "month"

[products.team_free]
name = "Team Free"
customer_type = "team"
line = "team_plan"
default = true
items.seats = { quantity = 1 }

[products.team_small]
name = "Team Small"
customer_type = "team"
line = "team_plan"
items.seats = { quantity = 2 }

[products.team_small.prices.monthly]
amounts = { usd = "30.00" }
interval = "month"

[products.team_big]
name = "Team Big"
customer_type = "team"
line = "team_plan"
items.seats = { quantity = 10 }

[products.team_big.prices.monthly]
amounts = { usd = "99.00" }
interval = "month"

[products.pack]
name = "Credit pack"
customer_type = "user"
stackable = true
items.credits = { quantity = 500, expires = "never" }

[products.pack.prices.once]
amounts = { usd = "5.00" }
"""
