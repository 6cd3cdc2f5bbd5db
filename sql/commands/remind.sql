-- Every submitting unit's standing for the quarter $period, for `huizong remind`. From the
-- registry (raw.units) crossed with the quarter, not from marts.submission_status, which covers
-- only the ledger's range of quarters: a quarter before or after it still lists every unit.
-- $due_by is FORM.md's deadline (huizong.clock.due_by: the end of $deadline_day, Asia/Shanghai),
-- $today the clock's date (HUIZONG_TODAY). status as marts.submission_status: on_time | late |
-- rejected (only invalid versions came) | missing | not_due (no valid version yet, the deadline
-- not passed). days_overdue: for late, the days between the deadline's date and the office's
-- date of the first valid version; for rejected and missing, the days from it to today.
-- returned_warnings: figures of the version in force the office returned for correction.
-- grain: one row per town and department of the registry open in $period; key: unit_code
with

-- those that exist in the quarter (a town merged away is not chased), and any that sent a file for it
units as (
    select unit_code, unit_name, unit_type from raw.units
    where unit_type in ('town', 'department')
        and (unit_open_in($period, opened, closed)
             or unit_code in (select unit_code from ops.imports where period = $period))
),

versions as (select * from ops.imports where period = $period and unit_code is not null),

first_valid as (
    select unit_code, file_name, received_at
    from versions
    -- a version held `locked` for a signed-off year was sent too: nothing more to chase
    where status in ('loaded', 'duplicate', 'superseded', 'locked')
    qualify row_number() over (partition by unit_code
                               order by received_at, coalesce(first_seen_at, imported_at), file_name) = 1
),

latest_rejected as (
    select unit_code, file_name, received_at, first_reason, n_errors, feedback_path,
        count(*) over (partition by unit_code) as rejected_files
    from versions
    where status = 'rejected'
    qualify row_number() over (partition by unit_code
                               order by received_at desc, coalesce(first_seen_at, imported_at) desc,
                                        file_name desc) = 1
),

standing as (
    select
        units.unit_code,
        units.unit_name,
        units.unit_type,
        case
            when first_valid.received_at <= $due_by then 'on_time'
            when first_valid.received_at is not null then 'late'
            when $today <= $deadline_day then 'not_due'
            when latest_rejected.unit_code is not null then 'rejected'
            else 'missing'
        end as status,
        first_valid.file_name as valid_file,
        first_valid.received_at as valid_received_at,
        latest_rejected.file_name as rejected_file,
        latest_rejected.received_at as rejected_received_at,
        latest_rejected.first_reason,
        latest_rejected.n_errors,
        latest_rejected.feedback_path,
        coalesce(latest_rejected.rejected_files, 0) as rejected_files
    from units
    left join first_valid using (unit_code)
    left join latest_rejected using (unit_code)
),

-- figures the office returned (huizong review): loaded, but a corrected file is asked for
returned as (
    select unit_code, count(*) as returned_warnings,
        arg_min(sheet || '!' || cell, (sheet, cell)) as returned_cell,
        arg_min(office_note, (sheet, cell)) as returned_note
    from marts.warning_reviews
    where period = $period and state = 'returned'
    group by unit_code
)

select
    unit_code,
    unit_name,
    unit_type,
    status,
    case
        when status = 'late'
            then date_diff('day', $deadline_day, cast(timezone('Asia/Shanghai', valid_received_at) as date))
        when status in ('rejected', 'missing') then date_diff('day', $deadline_day, $today)
    end as days_overdue,
    valid_file,
    valid_received_at,
    rejected_file,
    rejected_received_at,
    first_reason,
    n_errors,
    feedback_path,
    rejected_files,
    coalesce(returned.returned_warnings, 0) as returned_warnings,
    returned.returned_cell,
    returned.returned_note
from standing
left join returned using (unit_code)
order by unit_code
