-- every mart and every column of it carries a comment (sql/docs.csv)
select table_name, null as column_name from duckdb_tables()
where schema_name = 'marts' and coalesce(comment, '') = ''
union all
select table_name, column_name from duckdb_columns()
where schema_name = 'marts' and coalesce(comment, '') = ''
