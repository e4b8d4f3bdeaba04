/* tr_scripts: the tables of the embedded Lua scripts (see tr_scripts.h). */
#include "tr_scripts.h"

#define TR_SCRIPT_EXTERN(e, name, ev) extern const char tr_lua_##name[];
TR_SCRIPT_LIST(TR_SCRIPT_EXTERN)
#undef TR_SCRIPT_EXTERN

const char *const tr_script_source[TR_SCRIPT_COUNT] = {
#define TR_SCRIPT_SOURCE(e, name, ev) [TR_SCRIPT_##e] = tr_lua_##name,
    TR_SCRIPT_LIST(TR_SCRIPT_SOURCE)
#undef TR_SCRIPT_SOURCE
};

const char *const tr_script_name[TR_SCRIPT_COUNT] = {
#define TR_SCRIPT_NAME(e, name, ev) [TR_SCRIPT_##e] = #name,
    TR_SCRIPT_LIST(TR_SCRIPT_NAME)
#undef TR_SCRIPT_NAME
};

const bool tr_script_is_event[TR_SCRIPT_COUNT] = {
#define TR_SCRIPT_EVENT(e, name, ev) [TR_SCRIPT_##e] = ev,
    TR_SCRIPT_LIST(TR_SCRIPT_EVENT)
#undef TR_SCRIPT_EVENT
};
