// MIT krb5 GSSAPI; used for sec=krb5.
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <gssapi/gssapi_ext.h>
