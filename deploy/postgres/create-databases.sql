-- Used by docker-compose.yml's postgres container on first start: one database per service, as ./mes
-- creates them (services/<dir> -> <dir with - replaced by _>). tests/test_compose.py keeps this in step.
CREATE DATABASE kit_receiving OWNER mes;
CREATE DATABASE workforce OWNER mes;
CREATE DATABASE assembly_line OWNER mes;
CREATE DATABASE reporting OWNER mes;
