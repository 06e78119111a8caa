-- The stock table: `mariadb -h 127.0.0.1 -u root test < schema.sql`.
CREATE TABLE IF NOT EXISTS stock (
    sku      VARCHAR(32)  NOT NULL PRIMARY KEY,
    name     VARCHAR(200) NOT NULL,
    quantity INT UNSIGNED NOT NULL DEFAULT 0
) CHARACTER SET utf8mb4;
INSERT INTO stock (sku, name, quantity) VALUES ('TEA-1', 'Green tea', 12);
