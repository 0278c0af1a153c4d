/* ef_setting_id.h: the settings of the table (ef_settings.def) by name,
 * for modules below the settings module that only point to a setting
 * (advice naming where to change it). The table itself: ef_settings.h. */
#ifndef EF_SETTING_ID_H
#define EF_SETTING_ID_H

typedef enum {
#define SETTING(id, ...) EF_SET_##id,
#include "ef_settings.def"
#undef SETTING
  EF_SETTINGS_N
} ef_setting_id;

/* Where each front end takes setting id, as advice names it
 * ("collectd: CAFile, ecoflow-telegraf: --ca-file"; a setting only one
 * takes names that one). Built once, from any thread; never NULL. */
const char *ef_setting_where(ef_setting_id id);

#endif
