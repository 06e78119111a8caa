-- The orders table: `psql -h 127.0.0.1 -U postgres -d test -f schema.sql`.
CREATE TABLE IF NOT EXISTS orders (
    id               SERIAL PRIMARY KEY,
    customer         TEXT    NOT NULL,
    item             TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT  NOT NULL CHECK (unit_price_cents >= 0),
    shipped          BOOLEAN NOT NULL DEFAULT false,
    note             TEXT
);
