"""The annual summary and its formats, charts, the 汇总表 export, templates and the demo county."""
