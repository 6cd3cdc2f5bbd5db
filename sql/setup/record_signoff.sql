-- Record a sign-off in the build (huizong/signoff.py). Expects the temp tables `this_signoff`
-- (its one row of ops.signoffs) and `these_files` (its rows of ops.signed_files), and snapshots
-- what it signs: the year's figures of marts.summary_figures, and every recorded version of the
-- year's quarters with its status (those `loaded` are in force; the lock keeps them so).
insert into ops.signoffs by name select * from this_signoff;

insert into ops.signed_files by name select * from these_files;

insert into ops.signed_figures by name
select signoff.signoff_id, figures.year, figures.indicator_code, figures.slot, figures.value,
    figures.figure, figures.quarters_valid, figures.quarters_expected
from marts.summary_figures as figures
join this_signoff as signoff using (year);

insert into ops.signed_versions by name
select signoff.signoff_id, signoff.year, imports.sha256, imports.unit_code, imports.period,
    imports.status, imports.superseded_by
from ops.imports as imports
join this_signoff as signoff on period_year(imports.period) = signoff.year
where imports.unit_code is not null
