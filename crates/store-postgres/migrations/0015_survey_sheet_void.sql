-- A void mark on survey sheets (issue 18, ADR 0050): a sheet recorded by mistake
-- stays, marked void, and counts in no dimension analysis. The void (when, who, why)
-- as JSON text, like the sheet's answers; absent on every sheet already stored.

ALTER TABLE survey_sheets ADD COLUMN voided TEXT CHECK (voided IS NULL OR length(voided) > 0);
