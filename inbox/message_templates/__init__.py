"""WhatsApp message templates (not Django templates): `validation` of a new definition, `sync` with Tata
(create, list), `fill` (blanks, values, components, send) and `stats` (insights per day)."""
