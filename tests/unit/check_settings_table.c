/* check_settings_table.c: the settings table (ef_settings.def) keeps the
 * promises both parsers rely on: every name is found under itself and
 * nowhere else, a credential never comes from the command line, every
 * name may be quoted in a refusal, every kind has what it needs; and the
 * rules between settings, the lists a refusal names and the interval
 * floor say what the front ends used to say each on its own. */
#include "ef_account.h"
#include "ef_schedule.h"
#include "ef_settings.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_each_name_finds_its_setting) {
  size_t collectd = 0, telegraf = 0;
  for (size_t id = 0; id < EF_SETTINGS_N; id++) {
    const ef_setting *s = ef_setting_get(id);
    ck_assert_uint_eq(s->id, id);
    ck_assert_msg(s->collectd || s->telegraf, "row %zu has no name", id);
    if (s->collectd) {
      collectd++;
      ck_assert_ptr_eq(ef_setting_by_collectd(s->collectd, s->blocks), s);
      /* collectd's keys are read in any case */
      char upper[64];
      snprintf(upper, sizeof(upper), "%s", s->collectd);
      for (char *c = upper; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
      ck_assert_ptr_eq(ef_setting_by_collectd(upper, s->blocks), s);
      ck_assert_msg(ef_setting_name_quotable(s->collectd), "%s", s->collectd);
    }
    if (s->telegraf) {
      telegraf++;
      ck_assert_ptr_eq(ef_setting_by_telegraf(s->telegraf, strlen(s->telegraf)),
                       s);
      ck_assert_msg(ef_setting_name_quotable(s->telegraf), "%s", s->telegraf);
    }
  }
  ck_assert_uint_gt(collectd, 20);
  ck_assert_uint_gt(telegraf, 20);
  ck_assert_ptr_null(ef_setting_by_collectd("Intervall", ~0u));
  ck_assert_ptr_null(ef_setting_by_telegraf("timeou", 6));
  /* a prefix is not the setting */
  ck_assert_ptr_null(ef_setting_by_telegraf("timeout", 4));
  /* only where it stands: Name is a device's, not an account's */
  ck_assert_ptr_null(ef_setting_by_collectd("Name", EF_SETTING_IN_ACCOUNT));
}
END_TEST

START_TEST(test_credentials_stay_off_the_command_line) {
  size_t secrets = 0;
  for (size_t id = 0; id < EF_SETTINGS_N; id++) {
    const ef_setting *s = ef_setting_get(id);
    if (s->kind != EF_SETTING_SECRET)
      continue;
    secrets++;
    ck_assert_msg(!(s->from & EF_SETTING_FROM_ARGV), "%s", s->telegraf);
    ck_assert_ptr_nonnull(s->env);
    ck_assert_ptr_nonnull(s->text);
  }
  ck_assert_uint_eq(secrets, 2);
}
END_TEST

START_TEST(test_each_kind_has_what_it_needs) {
  for (size_t id = 0; id < EF_SETTINGS_N; id++) {
    const ef_setting *s = ef_setting_get(id);
    const char *name = s->telegraf ? s->telegraf : s->collectd;
    if (s->kind == EF_SETTING_NUMBER)
      ck_assert_msg(s->number != NULL, "%s has no verdict", name);
    if (s->kind == EF_SETTING_SECONDS)
      ck_assert_msg(s->min > 0 && s->max > s->min, "%s has no range", name);
    if (s->kind == EF_SETTING_LIST)
      ck_assert_msg(s->word && s->word_what, "%s takes any word", name);
    if (s->telegraf && (s->from & EF_SETTING_FROM_ARGV))
      ck_assert_msg(s->help && s->help[0], "%s has no help", name);
    if (s->telegraf && s->kind != EF_SETTING_BOOL &&
        s->kind != EF_SETTING_ACTION && (s->from & EF_SETTING_FROM_ARGV))
      ck_assert_msg(s->metavar != NULL, "--%s shows no value", name);
  }
}
END_TEST

START_TEST(test_refusals_list_each_block) {
  ck_assert_str_eq(ef_settings_collectd_list(EF_SETTING_IN_DEVICE),
                   "Name, Interval, Quota, RawQuotas, <Report>");
  ck_assert_str_eq(ef_settings_collectd_list(EF_SETTING_IN_REPORT),
                   "Interval, InstancePrefix");
  const char *plugin =
      ef_settings_collectd_list(EF_SETTING_IN_PLUGIN | EF_SETTING_IN_ACCOUNT);
  const char *account = ef_settings_collectd_list(EF_SETTING_IN_ACCOUNT);
  ck_assert_uint_eq(strncmp(plugin, account, strlen(account)), 0);
  ck_assert_str_eq(plugin + strlen(account), ", <Account>");
}
END_TEST

START_TEST(test_flags_have_dashes) {
  char flag[EF_SETTING_FLAG_LEN];
  ck_assert_str_eq(ef_setting_flag(ef_setting_get(EF_SET_MQTT_SUFFIX), flag),
                   "--mqtt-client-id-suffix");
  ck_assert_str_eq(ef_setting_flag(ef_setting_get(EF_SET_DEVICE), flag),
                   "--sn");
}
END_TEST

/* Advice names the setting to change as each front end spells it, from
 * the table: the certificate advice of an error, for one. */
START_TEST(test_advice_names_settings_through_the_table) {
  ck_assert_str_eq(ef_setting_where(EF_SET_CA_FILE),
                   "collectd: CAFile, ecoflow-telegraf: --ca-file");
  ck_assert_str_eq(ef_setting_where(EF_SET_DEVICE),
                   "collectd: Device, ecoflow-telegraf: --sn");
  ef_error err = {0};
  ef_error_set(&err, EF_ERR_TRANSPORT,
               "SSL certificate problem: unable to get local issuer");
  const char *advice = ef_error_advice(&err);
  ck_assert_ptr_nonnull(advice);
  ck_assert_ptr_nonnull(strstr(advice, ef_setting_where(EF_SET_CA_FILE)));
}
END_TEST

START_TEST(test_rules_between_settings) {
  const ef_settings_given fine = {.access_key = 1,
                                  .secret_key = 1,
                                  .devices = 1,
                                  .mqtt = 1,
                                  .mqtt_options = 1,
                                  .discover = 1,
                                  .shard = 1};
  ck_assert_int_eq(ef_settings_together(&fine), EF_SETTINGS_FINE);
  ef_settings_given given = fine;
  given.shard = 1, given.discover = 0;
  ck_assert_int_eq(ef_settings_together(&given),
                   EF_SETTINGS_SHARD_WITHOUT_DISCOVERY);
  given.mqtt = 0; /* checked before the shard */
  ck_assert_int_eq(ef_settings_together(&given), EF_SETTINGS_PUSH_WITHOUT_MQTT);
  given.devices = 0;
  ck_assert_int_eq(ef_settings_together(&given), EF_SETTINGS_NOTHING_TO_READ);
  given.secret_key = 0;
  ck_assert_int_eq(ef_settings_together(&given), EF_SETTINGS_NO_SECRET_KEY);
  given.access_key = 0;
  ck_assert_int_eq(ef_settings_together(&given), EF_SETTINGS_NO_ACCESS_KEY);
}
END_TEST

START_TEST(test_interval_floor) {
  unsetenv(EF_TEST_MIN_INTERVAL_ENV);
  char problem[EF_PROBLEM_LEN];
  double interval_s = 10;
  ck_assert_int_eq(ef_settings_interval_floor(&interval_s, problem), 0);
  ck_assert_double_eq(interval_s, 10);
  interval_s = 2;
  ck_assert_int_eq(ef_settings_interval_floor(&interval_s, problem), 1);
  ck_assert_double_eq(interval_s, 10);
  ck_assert_str_eq(problem, "polling every 10 s instead (the EcoFlow cloud "
                            "blocks accounts that poll faster)");
  ck_assert_int_eq(ef_settings_hook_warning(problem), 0);
}
END_TEST

UNIT_MAIN("settings table", test_each_name_finds_its_setting,
          test_credentials_stay_off_the_command_line,
          test_each_kind_has_what_it_needs, test_refusals_list_each_block,
          test_flags_have_dashes, test_advice_names_settings_through_the_table,
          test_rules_between_settings, test_interval_floor)
