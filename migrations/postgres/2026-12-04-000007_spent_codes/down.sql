DROP TABLE spent_codes;
