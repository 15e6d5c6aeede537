-- An archived mark on survey templates (issue 18, ADR 0045): an archived template
-- takes no new answer sheets; its sheets stay. A column with a default, so every
-- template already stored is not archived.

ALTER TABLE survey_templates ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
