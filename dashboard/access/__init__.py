"""Access control of the dashboard, in one package.

Who is asking (``store``: users, sessions, kiosk tokens, audit log; ``passwords``; ``throttle``:
failed-login locks; ``client``: the client address behind trusted proxies; ``web``: the login
page and the guard on every request), what they may see (``roles``: a role's pages and scope;
``scope``: the scope of the current request and the guard on every page's layout), and what the
browser may do with a response (``headers``: Content-Security-Policy, framing, HSTS). ``demo``
creates the demo accounts.
"""
