/*
 * The few Node-API declarations addon.c uses, so the addon builds with a C compiler alone: no Node headers,
 * no node-gyp. Node-API is an ABI that Node (and Deno) keep stable across versions; these match node_api.h and
 * js_native_api_types.h.
 */
#include <stddef.h>
#include <stdint.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef enum { napi_ok = 0 } napi_status;
typedef enum { napi_int8_array = 0, napi_uint8_array = 1 } napi_typedarray_type;
typedef enum { napi_default = 0, napi_writable = 1 << 0, napi_enumerable = 1 << 1 } napi_property_attributes;
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
typedef struct {
  const char *utf8name;
  napi_value name;
  napi_callback method;
  napi_callback getter;
  napi_callback setter;
  napi_value value;
  napi_property_attributes attributes;
  void *data;
} napi_property_descriptor;
#define NAPI_AUTO_LENGTH SIZE_MAX

napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data);
napi_status napi_get_typedarray_info(napi_env env, napi_value typedarray, napi_typedarray_type *type, size_t *length, void **data, napi_value *arraybuffer, size_t *byte_offset);
napi_status napi_get_value_uint32(napi_env env, napi_value value, uint32_t *result);
napi_status napi_get_value_double(napi_env env, napi_value value, double *result);
napi_status napi_throw_range_error(napi_env env, const char *code, const char *msg);
napi_status napi_get_value_string_utf8(napi_env env, napi_value value, char *buf, size_t bufsize, size_t *result);
napi_status napi_create_string_utf8(napi_env env, const char *str, size_t length, napi_value *result);
napi_status napi_define_properties(napi_env env, napi_value object, size_t property_count, const napi_property_descriptor *properties);

/* What Node looks for in an addon that did not register itself: the module's exports are filled here. */
#define NAPI_MODULE_INIT() \
  __attribute__((visibility("default"))) int32_t node_api_module_get_api_version_v1(void) { return 8; } \
  __attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports)
