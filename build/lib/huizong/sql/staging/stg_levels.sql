-- grain: one row per level of civilized village or town (schemas/catalog.py LEVELS); key: level.
-- level_rank rises with the honour: 0 无 (none), 1 县级 ... 4 全国
select level, level_rank from raw.levels
