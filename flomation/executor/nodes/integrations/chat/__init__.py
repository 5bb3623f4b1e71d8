"""Chat and SMS nodes: Slack, Microsoft Teams, Telegram, Discord and Twilio, with Flomation's ids, inputs
and outputs. One module per service; `_client` is the HTTP exchange they share.

A node takes a stored connection (its secrets masked from then on; its base URL used as it is) or
Flomation's inline inputs (`bot_token: ${secrets.X}`), which always reach the service's public address.
Every request goes through the run's egress session. What the service refuses (Slack's `ok: false`, a 401,
a rate limit still hit after the bounded waits, an unreachable host) comes back as Flomation's soft failure,
`success: false` with `error` naming the call and the reason: the node is marked failed and the flow goes
on, as in Flomation. A missing input or an address the egress policy refuses fails the node outright.
"""
