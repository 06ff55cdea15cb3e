"""The 68 entries of PKCS#11 v2.40's CK_FUNCTION_LIST (pkcs11f.h order) and how the module serves each one.

Each entry is ``(name, C parameters, route)``. The parameters use the standard type names of pkcs11t.h (p11-kit's
pkcs11.h in its default compatibility mode provides them), so the C compiler checks every generated shim against
the real CK_FUNCTION_LIST member it is stored in. Routes:

* ``python`` -- the shim checks that the embedded interpreter is ready and calls ``py_<name>`` (same
  parameters), whose body is the matching function of :mod:`pkcs11_sim.glue`;
* ``c`` -- written by hand in ``module.c`` (C_Initialize checks CK_C_INITIALIZE_ARGS in C before Python starts,
  C_GetFunctionList must work before Python starts);
* ``not_parallel`` -- legacy C_GetFunctionStatus / C_CancelFunction: PKCS#11 v2.40 section 5.16 says they simply
  return CKR_FUNCTION_NOT_PARALLEL;
* ``unsupported`` -- CKR_FUNCTION_NOT_SUPPORTED (encryption, wrapping, recovery, operation state...).
"""

from __future__ import annotations

S = "CK_SESSION_HANDLE hSession"

FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    ("C_Initialize", "CK_VOID_PTR pInitArgs", "c"),
    ("C_Finalize", "CK_VOID_PTR pReserved", "python"),
    ("C_GetInfo", "CK_INFO_PTR pInfo", "python"),
    ("C_GetFunctionList", "CK_FUNCTION_LIST_PTR_PTR ppFunctionList", "c"),
    ("C_GetSlotList", "CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount", "python"),
    ("C_GetSlotInfo", "CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo", "python"),
    ("C_GetTokenInfo", "CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo", "python"),
    ("C_GetMechanismList", "CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount", "python"),
    ("C_GetMechanismInfo", "CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo", "python"),
    ("C_InitToken", "CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel", "python"),
    ("C_InitPIN", f"{S}, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen", "python"),
    ("C_SetPIN", f"{S}, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen",
     "python"),
    ("C_OpenSession", "CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify, "
     "CK_SESSION_HANDLE_PTR phSession", "python"),
    ("C_CloseSession", S, "python"),
    ("C_CloseAllSessions", "CK_SLOT_ID slotID", "python"),
    ("C_GetSessionInfo", f"{S}, CK_SESSION_INFO_PTR pInfo", "python"),
    ("C_GetOperationState", f"{S}, CK_BYTE_PTR pOperationState, CK_ULONG_PTR pulOperationStateLen", "unsupported"),
    ("C_SetOperationState", f"{S}, CK_BYTE_PTR pOperationState, CK_ULONG ulOperationStateLen, "
     "CK_OBJECT_HANDLE hEncryptionKey, CK_OBJECT_HANDLE hAuthenticationKey", "unsupported"),
    ("C_Login", f"{S}, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen", "python"),
    ("C_Logout", S, "python"),
    ("C_CreateObject", f"{S}, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject", "python"),
    ("C_CopyObject", f"{S}, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, "
     "CK_OBJECT_HANDLE_PTR phNewObject", "unsupported"),
    ("C_DestroyObject", f"{S}, CK_OBJECT_HANDLE hObject", "python"),
    ("C_GetObjectSize", f"{S}, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize", "unsupported"),
    ("C_GetAttributeValue", f"{S}, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount", "python"),
    ("C_SetAttributeValue", f"{S}, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount", "python"),
    ("C_FindObjectsInit", f"{S}, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount", "python"),
    ("C_FindObjects", f"{S}, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount",
     "python"),
    ("C_FindObjectsFinal", S, "python"),
    ("C_EncryptInit", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey", "unsupported"),
    ("C_Encrypt", f"{S}, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData, "
     "CK_ULONG_PTR pulEncryptedDataLen", "unsupported"),
    ("C_EncryptUpdate", f"{S}, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, "
     "CK_ULONG_PTR pulEncryptedPartLen", "unsupported"),
    ("C_EncryptFinal", f"{S}, CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen", "unsupported"),
    ("C_DecryptInit", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey", "unsupported"),
    ("C_Decrypt", f"{S}, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, "
     "CK_ULONG_PTR pulDataLen", "unsupported"),
    ("C_DecryptUpdate", f"{S}, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, "
     "CK_ULONG_PTR pulPartLen", "unsupported"),
    ("C_DecryptFinal", f"{S}, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen", "unsupported"),
    ("C_DigestInit", f"{S}, CK_MECHANISM_PTR pMechanism", "python"),
    ("C_Digest", f"{S}, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen",
     "python"),
    ("C_DigestUpdate", f"{S}, CK_BYTE_PTR pPart, CK_ULONG ulPartLen", "python"),
    ("C_DigestKey", f"{S}, CK_OBJECT_HANDLE hKey", "unsupported"),
    ("C_DigestFinal", f"{S}, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen", "python"),
    ("C_SignInit", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey", "python"),
    ("C_Sign", f"{S}, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen",
     "python"),
    ("C_SignUpdate", f"{S}, CK_BYTE_PTR pPart, CK_ULONG ulPartLen", "python"),
    ("C_SignFinal", f"{S}, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen", "python"),
    ("C_SignRecoverInit", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey", "unsupported"),
    ("C_SignRecover", f"{S}, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, "
     "CK_ULONG_PTR pulSignatureLen", "unsupported"),
    ("C_VerifyInit", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey", "python"),
    ("C_Verify", f"{S}, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen",
     "python"),
    ("C_VerifyUpdate", f"{S}, CK_BYTE_PTR pPart, CK_ULONG ulPartLen", "python"),
    ("C_VerifyFinal", f"{S}, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen", "python"),
    ("C_VerifyRecoverInit", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey", "unsupported"),
    ("C_VerifyRecover", f"{S}, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, "
     "CK_ULONG_PTR pulDataLen", "unsupported"),
    ("C_DigestEncryptUpdate", f"{S}, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, "
     "CK_ULONG_PTR pulEncryptedPartLen", "unsupported"),
    ("C_DecryptDigestUpdate", f"{S}, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, "
     "CK_ULONG_PTR pulPartLen", "unsupported"),
    ("C_SignEncryptUpdate", f"{S}, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, "
     "CK_ULONG_PTR pulEncryptedPartLen", "unsupported"),
    ("C_DecryptVerifyUpdate", f"{S}, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, "
     "CK_ULONG_PTR pulPartLen", "unsupported"),
    ("C_GenerateKey", f"{S}, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, "
     "CK_OBJECT_HANDLE_PTR phKey", "unsupported"),
    ("C_GenerateKeyPair", f"{S}, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pPublicKeyTemplate, "
     "CK_ULONG ulPublicKeyAttributeCount, CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount, "
     "CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey", "python"),
    ("C_WrapKey", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, "
     "CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen", "unsupported"),
    ("C_UnwrapKey", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, "
     "CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey",
     "unsupported"),
    ("C_DeriveKey", f"{S}, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, "
     "CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey", "unsupported"),
    ("C_SeedRandom", f"{S}, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen", "python"),
    ("C_GenerateRandom", f"{S}, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen", "python"),
    ("C_GetFunctionStatus", S, "not_parallel"),
    ("C_CancelFunction", S, "not_parallel"),
    ("C_WaitForSlotEvent", "CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved", "python"),
)

# Entry points that are not PKCS#11 functions: the Python side of C_Initialize (the C shim has already validated
# CK_C_INITIALIZE_ARGS) and the no-op call that makes cffi run the init code.
PYTHON_EXTRA: tuple[tuple[str, str], ...] = (("sim_Initialize", "void"), ("sim_Ping", "void"))


def parameter_names(params: str) -> list[str]:
    """The parameter names of a C parameter list (``"CK_ULONG a, CK_BYTE_PTR b"`` -> ``["a", "b"]``)."""
    if params.strip() == "void":
        return []
    return [p.split()[-1] for p in params.split(",")]


def python_routed() -> list[tuple[str, str]]:
    """(name, parameters) of every function whose body is in Python, the C_Initialize helper included."""
    return [(n, p) for n, p, route in FUNCTIONS if route == "python"] + [
        (n, p) for n, p in PYTHON_EXTRA
    ]
