"""The kiosk at the counter: screens, buttons, and the local ratings outbox.

It never touches the network; ``sync`` carries what it stores to the server.
"""
