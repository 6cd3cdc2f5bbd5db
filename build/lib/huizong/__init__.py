"""huizong (汇总): consolidates the county's quarterly workbooks into DuckDB."""
