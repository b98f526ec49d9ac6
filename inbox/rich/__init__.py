"""Rich RCS messages (issue #14): what the composer's Suggestions / Card / Carousel builders send.

- `spec`: the builder's JSON (what the browser posts, what a snippet stores) → tata_rcs records, with
  every field checked and postback data assigned so a tap can be traced back to its chip.
- `service`: sending a rich message, snippets (admins share, agents keep their own), card media.
- `display`: what a bubble shows for a sent rich message, and which chip an inbound tap was.
- `views` / `urls`: thin views under /inbox/rich/.
"""
