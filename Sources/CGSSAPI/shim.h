// MIT krb5 GSSAPI; used for sec=krb5.
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <gssapi/gssapi_ext.h>

// Mutable C globals are errors in Swift 6 mode: read them through functions.
static inline gss_OID smb3fs_gss_nt_hostbased_service(void) { return GSS_C_NT_HOSTBASED_SERVICE; }
static inline gss_OID smb3fs_gss_krb5_nt_principal_name(void) { return GSS_KRB5_NT_PRINCIPAL_NAME; }
static inline gss_OID smb3fs_gss_inq_sspi_session_key(void) { return GSS_C_INQ_SSPI_SESSION_KEY; }
static inline gss_OID smb3fs_gss_mech_krb5(void) { return gss_mech_krb5; }
static inline gss_OID_set smb3fs_gss_mech_set_krb5(void) { return gss_mech_set_krb5; }
