"""Reading a workbook, checking it by the form's rules, wording its problems, the feedback workbook, the form's writer."""
