// SignAgent's `window.cadesplugin`: the object model of CryptoPro's browser plug-in (the asynchronous, "native
// messaging" flavour that today's loaders and wrappers such as the npm package `crypto-pro` drive), answered by the
// signagent agent on this computer. A portal written against CryptoPro's plug-in changes one line:
//
//   <script src="http://127.0.0.1:36985/cadesplugin_api.js"></script>   <!-- instead of the vendor loader -->
//
// and signs through the agent unchanged: every signature is still confirmed by the user in the agent's own window,
// with the token's PIN typed there (whatever the page sets, e.g. a signer's KeyPin, is ignored).
//
// A classic script (no module, no dependencies, no build step): vendor pages load it with <script src>. The object
// model talks to the agent through a *transport* (below: the protocol of docs/API.md). Loaded by a page, it calls
// the agent that served it with fetch. Run by SignAgent's browser extension (`signagent extension build`, which
// sets `signagent_cadesplugin_options.relay`), it sends each call through the extension instead (relay.js, then
// the extension's background part, which names the page's origin to the agent): the page's CSP and Local Network
// Access rules do not stand in the way, the agent's windows are opened by the extension (no popup blocker), and
// nothing reaches the agent until the page first uses `window.cadesplugin`.
//
// Written for signagent from CryptoPro's documented API (names, constants, error codes); no vendor code in it.
// Unsupported features (CAdES-T/X Long Type 1, XML signatures, encryption, GOST R 34.11-94) fail with a Russian
// message ending in " (0xHHHHHHHH)", the HRESULT CryptoPro reports for that case, as wrappers expect.
(function () {
  'use strict';

  if (typeof window === 'undefined') return;
  if (window.cadesplugin && window.cadesplugin.__signagent) return;  // this script twice on one page

  var PRODUCT = 'SignAgent';
  var JS_MODULE_VERSION = '2.3.5';          // the vendor loader version whose API this file answers
  var PLUGIN_API_VERSION = [2, 0, 15400];   // the plug-in API level reported (wrappers refuse < 2.0.12438)
  var CSP_API_VERSION = [5, 0, 0];          // the CSP API level reported (wrappers refuse < 4.0)
  var DEFAULT_LOAD_TIMEOUT_MS = 20000;
  var CALL_TIMEOUT_MS = 20000;
  var POLL_WAIT_S = 25;
  var POPUP_NAME = 'signagent-confirm';
  var POPUP_FEATURES = 'popup,width=560,height=720';

  // --- the constant table (numbers of CryptoPro's cadesplugin_api.js 2.3.5) --------------------------------------
  var CONSTANTS = {
    CAPICOM_MEMORY_STORE: 0, CAPICOM_LOCAL_MACHINE_STORE: 1, CAPICOM_CURRENT_USER_STORE: 2,
    CAPICOM_SMART_CARD_USER_STORE: 4, CADESCOM_MEMORY_STORE: 0, CADESCOM_LOCAL_MACHINE_STORE: 1,
    CADESCOM_CURRENT_USER_STORE: 2, CADESCOM_SMART_CARD_USER_STORE: 4, CADESCOM_CONTAINER_STORE: 100,
    CAPICOM_MY_STORE: 'My', CAPICOM_STORE_OPEN_READ_WRITE: 1, CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED: 2,
    CADESCOM_XML_SIGNATURE_TYPE_ENVELOPED: 0, CADESCOM_XML_SIGNATURE_TYPE_ENVELOPING: 1,
    CADESCOM_XML_SIGNATURE_TYPE_TEMPLATE: 2,
    CADESCOM_XADES_DEFAULT: 0x10, CADESCOM_XADES_BES: 0x20, CADESCOM_XADES_T: 0x50,
    CADESCOM_XADES_X_LONG_TYPE_1: 0x5d0, CADESCOM_XMLDSIG_TYPE: 0,
    XmlDsigGost3410UrlObsolete: 'http://www.w3.org/2001/04/xmldsig-more#gostr34102001-gostr3411',
    XmlDsigGost3411UrlObsolete: 'http://www.w3.org/2001/04/xmldsig-more#gostr3411',
    XmlDsigGost3410Url: 'urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102001-gostr3411',
    XmlDsigGost3411Url: 'urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr3411',
    XmlDsigGost3411Url2012256: 'urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256',
    XmlDsigGost3410Url2012256: 'urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256',
    XmlDsigGost3411Url2012512: 'urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-512',
    XmlDsigGost3410Url2012512: 'urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-512',
    CADESCOM_CADES_DEFAULT: 0, CADESCOM_CADES_BES: 1, CADESCOM_CADES_T: 0x5, CADESCOM_CADES_X_LONG_TYPE_1: 0x5d,
    CADESCOM_PKCS7_TYPE: 0xffff,
    CADESCOM_ENCODE_BASE64: 0, CADESCOM_ENCODE_BINARY: 1, CADESCOM_ENCODE_ANY: -1,
    CAPICOM_CERTIFICATE_INCLUDE_CHAIN_EXCEPT_ROOT: 0, CAPICOM_CERTIFICATE_INCLUDE_WHOLE_CHAIN: 1,
    CAPICOM_CERTIFICATE_INCLUDE_END_ENTITY_ONLY: 2,
    CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME: 0, CAPICOM_CERT_INFO_ISSUER_SIMPLE_NAME: 1,
    CAPICOM_CERTIFICATE_FIND_SHA1_HASH: 0, CAPICOM_CERTIFICATE_FIND_SUBJECT_NAME: 1,
    CAPICOM_CERTIFICATE_FIND_ISSUER_NAME: 2, CAPICOM_CERTIFICATE_FIND_ROOT_NAME: 3,
    CAPICOM_CERTIFICATE_FIND_TEMPLATE_NAME: 4, CAPICOM_CERTIFICATE_FIND_EXTENSION: 5,
    CAPICOM_CERTIFICATE_FIND_EXTENDED_PROPERTY: 6, CAPICOM_CERTIFICATE_FIND_APPLICATION_POLICY: 7,
    CAPICOM_CERTIFICATE_FIND_CERTIFICATE_POLICY: 8, CAPICOM_CERTIFICATE_FIND_TIME_VALID: 9,
    CAPICOM_CERTIFICATE_FIND_TIME_NOT_YET_VALID: 10, CAPICOM_CERTIFICATE_FIND_TIME_EXPIRED: 11,
    CAPICOM_CERTIFICATE_FIND_KEY_USAGE: 12,
    CAPICOM_DIGITAL_SIGNATURE_KEY_USAGE: 128, CAPICOM_PROPID_ENHKEY_USAGE: 9,
    CAPICOM_OID_OTHER: 0, CAPICOM_OID_KEY_USAGE_EXTENSION: 10,
    CAPICOM_EKU_CLIENT_AUTH: 2, CAPICOM_EKU_SMARTCARD_LOGON: 5, CAPICOM_EKU_OTHER: 0,
    CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME: 0, CAPICOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME: 1,
    CAPICOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION: 2, CADESCOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME: 0,
    CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME: 1, CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION: 2,
    CADESCOM_AUTHENTICATED_ATTRIBUTE_MACHINE_INFO: 0x100, CADESCOM_ATTRIBUTE_OTHER: -1,
    CADESCOM_STRING_TO_UCS2LE: 0, CADESCOM_BASE64_TO_BINARY: 1,
    CADESCOM_DISPLAY_DATA_NONE: 0, CADESCOM_DISPLAY_DATA_CONTENT: 1, CADESCOM_DISPLAY_DATA_ATTRIBUTE: 2,
    CADESCOM_ENCRYPTION_ALGORITHM_RC2: 0, CADESCOM_ENCRYPTION_ALGORITHM_RC4: 1, CADESCOM_ENCRYPTION_ALGORITHM_DES: 2,
    CADESCOM_ENCRYPTION_ALGORITHM_3DES: 3, CADESCOM_ENCRYPTION_ALGORITHM_AES: 4,
    CADESCOM_ENCRYPTION_ALGORITHM_GOST_28147_89: 25,
    CADESCOM_HASH_ALGORITHM_SHA1: 0, CADESCOM_HASH_ALGORITHM_MD2: 1, CADESCOM_HASH_ALGORITHM_MD4: 2,
    CADESCOM_HASH_ALGORITHM_MD5: 3, CADESCOM_HASH_ALGORITHM_SHA_256: 4, CADESCOM_HASH_ALGORITHM_SHA_384: 5,
    CADESCOM_HASH_ALGORITHM_SHA_512: 6, CADESCOM_HASH_ALGORITHM_CP_GOST_3411: 100,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256: 101, CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_512: 102,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411_HMAC: 110, CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256_HMAC: 111,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_512_HMAC: 112,
    LOG_LEVEL_DEBUG: 4, LOG_LEVEL_INFO: 2, LOG_LEVEL_ERROR: 1,
    CADESCOM_AllowNone: 0, CADESCOM_AllowNoOutstandingRequest: 0x1, CADESCOM_AllowUntrustedCertificate: 0x2,
    CADESCOM_AllowUntrustedRoot: 0x4, CADESCOM_SkipInstallToStore: 0x10000000,
    CADESCOM_InstallCertChainToContainer: 0x20000000, CADESCOM_UseContainerStore: 0x40000000,
    ENABLE_CARRIER_TYPE_CSP: 0x01, ENABLE_CARRIER_TYPE_FKC_NO_SM: 0x02, ENABLE_CARRIER_TYPE_FKC_SM: 0x04,
    ENABLE_ANY_CARRIER_TYPE: 0x07, DISABLE_EVERY_CARRIER_OPERATION: 0x00, ENABLE_CARRIER_OPEN_ENUM: 0x01,
    ENABLE_CARRIER_CREATE: 0x02, ENABLE_ANY_OPERATION: 0x03,
    CADESCOM_PRODUCT_CSP: 0, CADESCOM_PRODUCT_OCSP: 1, CADESCOM_PRODUCT_TSP: 2,
    MEDIA_TYPE_REGISTRY: 0x1, MEDIA_TYPE_HDIMAGE: 0x2, MEDIA_TYPE_CLOUD: 0x4, MEDIA_TYPE_SCARD: 0x8,
    XCN_CRYPT_STRING_BASE64HEADER: 0, AT_KEYEXCHANGE: 1, AT_SIGNATURE: 2,
    CARRIER_FLAG_REMOVABLE: 1, CARRIER_FLAG_UNIQUE: 2, CARRIER_FLAG_PROTECTED: 4, CARRIER_FLAG_FUNCTIONAL_CARRIER: 8,
    CARRIER_FLAG_SECURE_MESSAGING: 16, CARRIER_FLAG_ABLE_VISUALISE_SIGNATURE: 64, CARRIER_FLAG_VIRTUAL: 128,
  };
  var C = CONSTANTS;
  var PROPID_KEY_PROV_INFO = 2;  // CAPICOM_PROPID_KEY_PROV_INFO: "has a private key" for FIND_EXTENDED_PROPERTY

  // --- errors: Russian text + " (0xHHHHHHHH)", CryptoPro's HRESULT for the case ------------------------------------
  var HR = {
    CANCELLED: 0x8010006E,        // SCARD_W_CANCELLED_BY_USER
    SIGNER_NOT_FOUND: 0x8009100E, // CRYPT_E_SIGNER_NOT_FOUND
    NOT_FOUND: 0x80092004,        // CRYPT_E_NOT_FOUND
    INVALID_ARG: 0x80070057,      // E_INVALIDARG
    NOT_IMPL: 0x80004001,         // E_NOTIMPL
    FAIL: 0x80004005,             // E_FAIL
    BAD_ALGID: 0x80090008,        // NTE_BAD_ALGID
    BAD_SIGNATURE: 0x80090006,    // NTE_BAD_SIGNATURE
    HASH_VALUE: 0x80091007,       // CRYPT_E_HASH_VALUE
    UNTRUSTED_ROOT: 0x800B0109,   // CERT_E_UNTRUSTEDROOT
    CHAINING: 0x800B010A,         // CERT_E_CHAINING
    CHV_BLOCKED: 0x8010006C,      // SCARD_W_CHV_BLOCKED
    REMOVED_CARD: 0x80100069,     // SCARD_W_REMOVED_CARD
    TIMEOUT: 0x8010000A,          // SCARD_E_TIMEOUT
    NO_SIGNER: 0x8009200E,        // CRYPT_E_NO_SIGNER: no signer certificate was set
  };

  function hex32(n) {
    return ('00000000' + (n >>> 0).toString(16).toUpperCase()).slice(-8);
  }

  function cadesError(text, hresult, cause) {
    var err = new Error(text + ' (0x' + hex32(hresult) + ')');
    err.hresult = hresult >>> 0;
    if (cause !== undefined) err.cause = cause;
    return err;
  }

  function refused(what) {
    return cadesError(what + ': не поддерживается в ' + PRODUCT + '.', HR.NOT_IMPL);
  }

  function rejectWith(err) {
    return Promise.reject(err);
  }

  /** The cadesplugin error for an error document of the agent ({code, message_ru}) or a transport failure. */
  function fromAgent(error) {
    var err = fromAgentCode(error);
    err.agentCode = error && error.code;
    return err;
  }

  function fromAgentCode(error) {
    var code = error && error.code;
    var text = (error && (error.message_ru || error.message)) || ('Ошибка ' + PRODUCT);
    text = String(text).replace(/\s*\.?\s*$/, '');
    switch (code) {
      // extension_not_paired reaches the page only after the user refused the extension in the agent's window
      case 'user_cancelled': case 'extension_not_paired':
        return cadesError('Действие было отменено пользователем.', HR.CANCELLED);
      case 'certificate_not_found': return cadesError('Не удается найти сертификат и закрытый ключ. ' + text,
        HR.SIGNER_NOT_FOUND);
      case 'pin_locked': return cadesError(text, HR.CHV_BLOCKED);
      case 'token_removed': return cadesError(text, HR.REMOVED_CARD);
      case 'request_expired': case 'timeout': return cadesError(text, HR.TIMEOUT);
      case 'request_invalid': return cadesError(text, HR.INVALID_ARG);
      default: return cadesError(text + (code ? ' [' + code + ']' : ''), HR.FAIL);
    }
  }

  // --- bytes -------------------------------------------------------------------------------------------------------
  function bytesToBase64(bytes) {
    var parts = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return btoa(parts.join(''));
  }

  function base64ToBytes(text) {
    var clean = String(text).replace(/-----[^-]+-----/g, '').replace(/[\s]/g, '');
    var binary;
    try {
      binary = atob(clean);
    } catch (e) {
      throw cadesError('Неверный формат данных Base64.', HR.INVALID_ARG, e);
    }
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  /** Base64 with CRLF every 64 characters: what CryptoPro's SignCades and Export return. */
  function wrappedBase64(b64) {
    return b64.replace(/.{64}(?=.)/g, '$&\r\n');
  }

  function ucs2le(text) {
    var s = String(text);
    var out = new Uint8Array(s.length * 2);
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      out[2 * i] = c & 0xff;
      out[2 * i + 1] = c >> 8;
    }
    return out;
  }

  function concat(chunks) {
    var n = 0;
    chunks.forEach(function (c) { n += c.length; });
    var out = new Uint8Array(n);
    var at = 0;
    chunks.forEach(function (c) { out.set(c, at); at += c.length; });
    return out;
  }

  function toHex(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += ('0' + bytes[i].toString(16)).slice(-2);
    return s.toUpperCase();
  }

  function utf8Decode(bytes) {
    return new TextDecoder('utf-8').decode(bytes);
  }

  // --- just enough DER to read a certificate -----------------------------------------------------------------------
  function tlv(buf, at) {
    var tag = buf[at];
    var len = buf[at + 1];
    var hdr = 2;
    if (len & 0x80) {
      var n = len & 0x7f;
      len = 0;
      for (var i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i];
      hdr = 2 + n;
    }
    return {tag: tag, start: at + hdr, end: at + hdr + len, next: at + hdr + len};
  }

  function children(buf, node) {
    var out = [];
    for (var at = node.start; at < node.end;) {
      var child = tlv(buf, at);
      out.push(child);
      at = child.next;
    }
    return out;
  }

  function oidString(buf, node) {
    var parts = [];
    var value = 0;
    for (var i = node.start; i < node.end; i++) {
      value = value * 128 + (buf[i] & 0x7f);
      if (!(buf[i] & 0x80)) {
        if (parts.length === 0) {
          var first = value < 80 ? Math.floor(value / 40) : 2;
          parts.push(first, value - first * 40);
        } else {
          parts.push(value);
        }
        value = 0;
      }
    }
    return parts.join('.');
  }

  function stringValue(buf, node) {
    var bytes = buf.subarray(node.start, node.end);
    if (node.tag === 0x1e) {  // BMPString
      var s = '';
      for (var i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
      return s;
    }
    return utf8Decode(bytes);
  }

  function timeValue(buf, node) {
    var t = String.fromCharCode.apply(null, buf.subarray(node.start, node.end));
    var year = node.tag === 0x17 ? Number(t.slice(0, 2)) : Number(t.slice(0, 4));
    if (node.tag === 0x17) year += year < 50 ? 2000 : 1900;
    var r = node.tag === 0x17 ? t.slice(2) : t.slice(4);
    return new Date(Date.UTC(year, Number(r.slice(0, 2)) - 1, Number(r.slice(2, 4)), Number(r.slice(4, 6)),
      Number(r.slice(6, 8)), Number(r.slice(8, 10) || 0)));
  }

  // Attribute types as CryptoPro writes them in SubjectName / IssuerName.
  var NAME_TYPES = {
    '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.42': 'G', '2.5.4.12': 'T', '2.5.4.10': 'O', '2.5.4.11': 'OU',
    '2.5.4.7': 'L', '2.5.4.8': 'S', '2.5.4.6': 'C', '2.5.4.9': 'STREET', '2.5.4.5': 'SERIALNUMBER',
    '1.2.840.113549.1.9.1': 'E', '1.2.840.113549.1.9.2': 'UnstructuredName', '1.2.643.3.131.1.1': 'ИНН',
    '1.2.643.100.4': 'ИНН ЮЛ', '1.2.643.100.1': 'ОГРН', '1.2.643.100.5': 'ОГРНИП', '1.2.643.100.3': 'СНИЛС',
  };

  function quoteRdn(value) {
    return /[,+=";<>#\n\r]|^\s|\s$/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
  }

  /** A Name as CryptoPro shows it: the most specific attribute first, "TYPE=value" joined by ", ". */
  function nameString(buf, node) {
    var parts = [];
    children(buf, node).forEach(function (set) {
      children(buf, set).forEach(function (atv) {
        var pair = children(buf, atv);
        var oid = oidString(buf, pair[0]);
        parts.push((NAME_TYPES[oid] || 'OID.' + oid) + '=' + quoteRdn(stringValue(buf, pair[1])));
      });
    });
    return parts.reverse().join(', ');
  }

  function simpleName(name) {
    var m = /(?:^|, )CN=("(?:[^"]|"")*"|[^,]*)/.exec(name);
    if (!m) return '';
    var v = m[1];
    return v.charAt(0) === '"' ? v.slice(1, -1).replace(/""/g, '"') : v;
  }

  var KEY_ALGORITHMS = {
    '1.2.643.7.1.1.1.1': 'ГОСТ Р 34.10-2012 256 бит',
    '1.2.643.7.1.1.1.2': 'ГОСТ Р 34.10-2012 512 бит',
    '1.2.643.2.2.19': 'ГОСТ Р 34.10-2001',
    '1.2.840.113549.1.1.1': 'RSA',
    '1.2.840.10045.2.1': 'ECC',
  };

  function parseCertificate(der) {
    var cert = tlv(der, 0);
    var tbs = children(der, cert)[0];
    var f = children(der, tbs);
    var i = 0;
    var version = 1;
    if (f[0].tag === 0xa0) {
      version = der[children(der, f[0])[0].start] + 1;
      i = 1;
    }
    var serial = der.subarray(f[i].start, f[i].end);
    var validity = children(der, f[i + 3]);
    var spki = children(der, f[i + 5]);
    var keyAlg = children(der, spki[0]);
    var extensions = {};
    for (var j = i + 6; j < f.length; j++) {
      if (f[j].tag !== 0xa3) continue;
      children(der, children(der, f[j])[0]).forEach(function (ext) {
        var parts = children(der, ext);
        var critical = parts.length === 3 && der[parts[1].start] !== 0;
        var value = parts[parts.length - 1];
        extensions[oidString(der, parts[0])] = {critical: critical, value: der.subarray(value.start, value.end)};
      });
    }
    var keyBits = der.subarray(spki[1].start + 1, spki[1].end);
    return {
      version: version,
      serial: toHex(serial),
      issuer: nameString(der, f[i + 2]),
      subject: nameString(der, f[i + 4]),
      notBefore: timeValue(der, validity[0]),
      notAfter: timeValue(der, validity[1]),
      keyAlgorithm: oidString(der, keyAlg[0]),
      keyBits: keyBits,
      extensions: extensions,
    };
  }

  function ekuOids(ext) {
    var buf = ext.value;
    return children(buf, tlv(buf, 0)).map(function (node) { return oidString(buf, node); });
  }

  function keyUsageBits(ext) {
    var buf = ext.value;
    var node = tlv(buf, 0);
    var bits = 0;
    for (var k = node.start + 1, shift = 0; k < node.end && shift < 2; k++, shift++) {
      bits |= buf[k] << (8 * shift);
    }
    // CAPICOM flags: digitalSignature 0x80, nonRepudiation 0x40, keyEncipherment 0x20, dataEncipherment 0x10,
    // keyAgreement 0x08, keyCertSign 0x04, cRLSign 0x02, encipherOnly 0x01, decipherOnly 0x8000: the DER bytes.
    return bits;
  }

  // --- the transport: HTTP to the agent that served this script (docs/API.md) --------------------------------------
  function scriptBase() {
    var options = window.signagent_cadesplugin_options || {};
    if (options.host || options.port) {
      return 'http://' + (options.host || '127.0.0.1') + ':' + (options.port || 36985);
    }
    var script = document.currentScript;
    if (script && script.src) {
      try { return new URL(script.src).origin; } catch (e) { /* fall through */ }
    }
    return 'http://127.0.0.1:36985';
  }

  function HttpTransport(base) {
    this.base = base;
    this.paired = null;
  }

  /** One HTTP exchange with the agent: {status, answer} (the parsed JSON or null); rejects as fetch does. */
  HttpTransport.prototype.send = function (method, path, body, timeoutMs) {
    var init = {method: method, mode: 'cors', credentials: 'omit', cache: 'no-store', targetAddressSpace: 'loopback'};
    if (typeof AbortSignal !== 'undefined' && AbortSignal.timeout) init.signal = AbortSignal.timeout(timeoutMs);
    if (body !== undefined) {
      init.headers = {'Content-Type': 'application/json'};
      init.body = JSON.stringify(body);
    }
    return fetch(this.base + path, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (answer) {
        return {status: response.status, answer: answer};
      });
    });
  };

  HttpTransport.prototype.call = function (method, path, body, timeoutMs) {
    var self = this;
    return this.send(method, path, body, timeoutMs || CALL_TIMEOUT_MS).then(function (reply) {
      var answer = reply.answer;
      if (reply.status < 200 || reply.status > 299) {
        var error = answer && answer.error ? answer.error : {code: 'http_' + reply.status};
        // readable through the extension; a page's own fetch sees none
        if (error.code === 'origin_not_paired') throw self.notPaired_();
        throw fromAgent(error);
      }
      return answer;
    }, function (err) {
      if (err && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        throw cadesError(PRODUCT + ' не ответил вовремя.', HR.TIMEOUT, err);
      }
      if (path === '/v1/info') throw err;
      // An unpaired site is refused without CORS headers: the browser reports it as a network failure.
      return self.call('GET', '/v1/info').then(function (info) {
        if (info && !info.paired) throw self.notPaired_();
        throw cadesError(PRODUCT + ' отклонил запрос.', HR.FAIL, err);
      }, function () {
        throw cadesError('Плагин недоступен: ' + PRODUCT + ' не запущен на этом компьютере.', HR.FAIL, err);
      });
    });
  };

  /** The error for "this site is not paired" (paired_ pairs it, then repeats the operation); remembered. */
  HttpTransport.prototype.notPaired_ = function () {
    this.paired = false;
    var e = cadesError('Этот сайт не подключён к ' + PRODUCT + '.', HR.FAIL);
    e.notPaired = true;
    return e;
  };

  HttpTransport.prototype.info = function (timeoutMs) {
    var self = this;
    return this.call('GET', '/v1/info', undefined, timeoutMs).then(function (info) {
      self.paired = Boolean(info.paired);
      self.lastInfo = info;
      return info;
    });
  };

  /** Start a request the user confirms, show its page in `popup` (opened earlier, in the gesture), wait for it. */
  HttpTransport.prototype.confirmed = function (path, body, popup) {
    var self = this;
    return this.call('POST', path, body).then(function (started) {
      popup.show(started.confirm_url);
      return self.wait(started.request_id);
    }).then(function (state) {
      popup.close();
      return state.result;
    }, function (err) {
      if (!(err && err.notPaired)) popup.close();  // not paired: the same window shows the pairing page next
      throw err;
    });
  };

  HttpTransport.prototype.wait = function (requestId) {
    var self = this;
    var path = '/v1/requests/' + encodeURIComponent(requestId) + '?wait=' + POLL_WAIT_S;
    function poll() {
      return self.call('GET', path, undefined, (POLL_WAIT_S + 10) * 1000).then(function (state) {
        switch (state.status) {
          case 'pending': return poll();
          case 'approved': return state;
          case 'denied': throw cadesError('Действие было отменено пользователем.', HR.CANCELLED);
          case 'expired': throw cadesError('Время на подтверждение запроса истекло.', HR.TIMEOUT);
          case 'failed': throw fromAgent(state.error);
          default: throw cadesError('Неожиданное состояние запроса: ' + state.status, HR.FAIL);
        }
      });
    }
    return poll();
  };

  /** Run `operation`; when the site is not paired yet, pair it (the user allows it in the agent's window) first. */
  HttpTransport.prototype.paired_ = function (operation, popup) {
    var self = this;
    function pairThen() {
      var pairing = popup || self.window();
      return self.confirmed('/v1/pair', undefined, pairing).then(function () {
        self.paired = true;
        return operation(popup ? self.window() : undefined);
      });
    }
    if (this.paired === false) return pairThen();
    return operation(popup).catch(function (err) {
      if (err && err.notPaired) return pairThen();
      throw err;
    });
  };

  HttpTransport.prototype.certificates = function () {
    var self = this;
    return this.paired_(function () {
      return self.call('GET', '/v1/certificates').then(function (answer) { return answer.certificates; });
    });
  };

  function confirmedOperation(transport, path, body) {
    var popup = transport.window();  // now, before any await: still inside the user's gesture
    return transport.paired_(function (window_) {
      return transport.confirmed(path, body, window_ || popup);
    }, popup).finally(function () { popup.close(); });
  }

  HttpTransport.prototype.sign = function (body) { return confirmedOperation(this, '/v1/sign', body); };
  HttpTransport.prototype.cosign = function (body) { return confirmedOperation(this, '/v1/cosign', body); };
  HttpTransport.prototype.hash = function (body) {
    var self = this;
    return this.paired_(function () { return self.call('POST', '/v1/hash', body); });
  };
  HttpTransport.prototype.validate = function (body) {
    var self = this;
    return this.paired_(function () { return self.call('POST', '/v1/validate', body, 60000); });
  };

  /** The transport of the browser extension: the same calls, sent through its relay (relay.js) instead of fetch. */
  function RelayTransport(relay) {
    this.base = '';
    this.paired = null;
    this.relay = relay;
  }
  RelayTransport.prototype = Object.create(HttpTransport.prototype);
  RelayTransport.prototype.constructor = RelayTransport;

  RelayTransport.prototype.send = function (method, path, body, timeoutMs) {
    var request = {kind: 'call', method: method, path: path, timeout: timeoutMs,
                   body: body === undefined ? undefined : JSON.stringify(body)};
    return this.relay.ask(request, timeoutMs + 5000).then(function (a) {
      if (a.failed) {
        var err = new Error('SignAgent extension: ' + (a.detail || a.failed));
        err.name = a.failed === 'timeout' ? 'TimeoutError' : 'TypeError';
        throw err;
      }
      return {status: a.status, answer: a.body};
    });
  };

  RelayTransport.prototype.window = function () { return new RelayWindow(this.relay); };

  /** The page's side of relay.js: requests posted to this window, answers matched by id. */
  function Relay() {
    var pending = {};
    this.pending = pending;
    this.next = 0;
    window.addEventListener('message', function (event) {
      var data = event.data;
      if (event.source !== window || !data || typeof data !== 'object' || data[RELAY_TAG] !== 'answer') return;
      var waiting = pending[data.id];
      if (!waiting) return;
      delete pending[data.id];
      waiting(data.answer || {failed: 'unreachable'});
    });
  }

  Relay.prototype.ask = function (request, timeoutMs) {
    var pending = this.pending;
    var id = 'signagent-' + (++this.next) + '-' + Math.random().toString(36).slice(2);
    request.id = id;
    request[RELAY_TAG] = 'request';
    return new Promise(function (resolve) {
      var timer = setTimeout(function () {  // the extension's part is gone (reloaded, removed): no answer comes
        delete pending[id];
        resolve({failed: 'timeout', detail: 'no answer from the extension'});
      }, timeoutMs);
      pending[id] = function (answer) {
        clearTimeout(timer);
        resolve(answer);
      };
      window.postMessage(request, '*');
    });
  };

  /** The agent's window for one request, opened and closed by the extension (see ConfirmWindow). */
  function RelayWindow(relay) {
    this.relay = relay;
    this.opened = null;
  }

  RelayWindow.prototype.show = function (url) {
    var self = this;
    this.opened = this.relay.ask({kind: 'show', url: url}, CALL_TIMEOUT_MS).then(function (a) {
      return a && !a.failed ? a.window : null;
    });
  };

  RelayWindow.prototype.close = function () {
    var relay = this.relay;
    var opened = this.opened;
    this.opened = null;
    if (opened) {
      opened.then(function (id) {
        if (id !== null && id !== undefined) relay.ask({kind: 'close', window: id}, CALL_TIMEOUT_MS);
      });
    }
  };

  HttpTransport.prototype.window = function () { return new ConfirmWindow(); };

  /** The agent's window for one request: a popup opened at once, else a link put on the page. */
  function ConfirmWindow() {
    this.popup = null;
    this.link = null;
    try {
      this.popup = window.open('about:blank', POPUP_NAME, POPUP_FEATURES);
    } catch (e) {
      this.popup = null;
    }
  }

  ConfirmWindow.prototype.show = function (url) {
    if (this.popup && !this.popup.closed) {
      this.popup.location.href = url;
      return;
    }
    var options = window.signagent_cadesplugin_options || {};
    if (typeof options.onConfirmLink === 'function') {
      options.onConfirmLink(url);
      return;
    }
    var link = document.createElement('a');
    link.href = url;
    link.target = '_blank';
    link.rel = 'opener';
    link.dataset.signagent = 'confirm-link';
    link.textContent = 'Откройте окно SignAgent, чтобы подтвердить запрос · Open the SignAgent window to confirm';
    link.style.cssText = 'display:block;position:relative;z-index:2147483647;margin:8px;padding:12px 16px;' +
      'border:2px solid #1a56db;border-radius:6px;background:#fff;color:#1a56db;font:16px/1.4 sans-serif;';
    document.body.prepend(link);
    this.link = link;
  };

  ConfirmWindow.prototype.close = function () {
    if (this.popup && !this.popup.closed) {
      try { this.popup.close(); } catch (e) { /* not ours to close */ }
    }
    if (this.link) this.link.remove();
    this.popup = null;
    this.link = null;
  };

  var OPTIONS = window.signagent_cadesplugin_options || {};
  var RELAY_TAG = 'signagent-relay';
  var transport = OPTIONS.relay ? new RelayTransport(new Relay()) : new HttpTransport(scriptBase());

  // --- the object model --------------------------------------------------------------------------------------------
  // Every property read answers a promise, every write is `propset_Name(value)` answering a promise, every method
  // answers a promise: the shape of CryptoPro's asynchronous objects.

  function prop(proto, name, getter, setter) {
    Object.defineProperty(proto, name, {
      get: function () {
        try {
          return Promise.resolve(getter.call(this));
        } catch (e) {
          return Promise.reject(e);
        }
      },
      configurable: true,
    });
    proto['propset_' + name] = function (value) {
      if (!setter) return rejectWith(cadesError('Свойство ' + name + ' доступно только для чтения.', HR.INVALID_ARG));
      try {
        return Promise.resolve(value).then(function (v) { return setter.call(this, v); }.bind(this))
          .then(function () { return undefined; });
      } catch (e) {
        return Promise.reject(e);
      }
    };
  }

  function method(proto, name, body) {
    proto[name] = function () {
      var self = this;
      var args = arguments;
      try {
        return Promise.resolve(body.apply(self, args));
      } catch (e) {
        return Promise.reject(e);
      }
    };
  }

  function unsupportedMethods(proto, names, what) {
    names.forEach(function (name) {
      method(proto, name, function () { throw refused(what + '.' + name); });
    });
  }

  // Version (About.PluginVersion, About.CSPVersion())
  function Version(parts, product) {
    this._parts = parts;
    this._product = product;
  }
  prop(Version.prototype, 'MajorVersion', function () { return this._parts[0]; });
  prop(Version.prototype, 'MinorVersion', function () { return this._parts[1]; });
  prop(Version.prototype, 'BuildVersion', function () { return this._parts[2]; });
  method(Version.prototype, 'toString', function () { return this._parts.join('.'); });

  // About
  function About() {}
  prop(About.prototype, 'PluginVersion', function () { return new Version(PLUGIN_API_VERSION); });
  prop(About.prototype, 'Version', function () { return PLUGIN_API_VERSION.join('.'); });
  prop(About.prototype, 'MajorVersion', function () { return PLUGIN_API_VERSION[0]; });
  prop(About.prototype, 'MinorVersion', function () { return PLUGIN_API_VERSION[1]; });
  prop(About.prototype, 'BuildVersion', function () { return PLUGIN_API_VERSION[2]; });
  prop(About.prototype, 'ProductName', function () { return productName(); });
  method(About.prototype, 'CSPName', function () { return productName(); });
  method(About.prototype, 'CSPVersion', function () { return new Version(CSP_API_VERSION); });
  method(About.prototype, 'ProductVersion', function () { return new Version(CSP_API_VERSION); });
  method(About.prototype, 'MediaFilter', function () { return undefined; });
  method(About.prototype, 'ReaderFilter', function () { return undefined; });

  function productName() {
    var info = transport.lastInfo || {};
    return PRODUCT + (info.version ? ' ' + info.version : '');
  }

  // OID
  function Oid(value, friendly) {
    this._value = value;
    this._friendly = friendly || '';
  }
  prop(Oid.prototype, 'Value', function () { return this._value; });
  prop(Oid.prototype, 'FriendlyName', function () { return this._friendly; });
  prop(Oid.prototype, 'Name', function () { return 0; });

  // PublicKey
  function PublicKey(info) { this._info = info; }
  prop(PublicKey.prototype, 'Algorithm', function () {
    return new Oid(this._info.keyAlgorithm, KEY_ALGORITHMS[this._info.keyAlgorithm]);
  });
  prop(PublicKey.prototype, 'Length', function () {
    var alg = this._info.keyAlgorithm;
    return alg === '1.2.643.7.1.1.1.2' ? 1024 : 512;  // CryptoPro reports the public key's bit length
  });
  prop(PublicKey.prototype, 'EncodedKey', function () {
    return {Value: bytesToBase64(this._info.keyBits), Format: function () { return Promise.resolve(''); }};
  });

  // Collections (EKUs, attributes)
  function List(items) { this._items = items || []; }
  prop(List.prototype, 'Count', function () { return this._items.length; });
  method(List.prototype, 'Item', function (index) {
    var item = this._items[Number(index) - 1];
    if (item === undefined) throw cadesError('Неверный индекс: ' + index + '.', HR.INVALID_ARG);
    return item;
  });

  function AttributeList() { List.call(this, []); }
  AttributeList.prototype = Object.create(List.prototype);
  method(AttributeList.prototype, 'Add', function (attribute) {
    if (!(attribute instanceof CPAttribute)) throw cadesError('Ожидается объект CPAttribute.', HR.INVALID_ARG);
    this._items.push(attribute);
  });
  method(AttributeList.prototype, 'Clear', function () { this._items = []; });
  method(AttributeList.prototype, 'Remove', function (index) {
    if (!this._items[Number(index) - 1]) throw cadesError('Неверный индекс: ' + index + '.', HR.INVALID_ARG);
    this._items.splice(Number(index) - 1, 1);
  });

  // ExtendedKeyUsage / KeyUsage / BasicConstraints
  function ExtendedKeyUsage(ext) { this._ext = ext; }
  prop(ExtendedKeyUsage.prototype, 'IsPresent', function () { return Boolean(this._ext); });
  prop(ExtendedKeyUsage.prototype, 'IsCritical', function () { return Boolean(this._ext && this._ext.critical); });
  prop(ExtendedKeyUsage.prototype, 'EKUs', function () {
    return new List(this._ext ? ekuOids(this._ext).map(function (oid) { return new Eku(oid); }) : []);
  });
  function Eku(oid) { this._oid = oid; }
  prop(Eku.prototype, 'OID', function () { return this._oid; });
  prop(Eku.prototype, 'Name', function () {
    return this._oid === '1.3.6.1.5.5.7.3.2' ? C.CAPICOM_EKU_CLIENT_AUTH : C.CAPICOM_EKU_OTHER;
  });

  var KEY_USAGE_FLAGS = {
    IsDigitalSignatureEnabled: 0x80, IsNonRepudiationEnabled: 0x40, IsKeyEnciphermentEnabled: 0x20,
    IsDataEnciphermentEnabled: 0x10, IsKeyAgreementEnabled: 0x08, IsKeyCertSignEnabled: 0x04,
    IsCRLSignEnabled: 0x02, IsEncipherOnlyEnabled: 0x01, IsDecipherOnlyEnabled: 0x8000,
  };
  function KeyUsage(ext) { this._ext = ext; this._bits = ext ? keyUsageBits(ext) : 0; }
  prop(KeyUsage.prototype, 'IsPresent', function () { return Boolean(this._ext); });
  prop(KeyUsage.prototype, 'IsCritical', function () { return Boolean(this._ext && this._ext.critical); });
  Object.keys(KEY_USAGE_FLAGS).forEach(function (name) {
    prop(KeyUsage.prototype, name, function () { return (this._bits & KEY_USAGE_FLAGS[name]) !== 0; });
  });

  function BasicConstraints(ext) {
    this._ext = ext;
    this._ca = false;
    if (ext) {
      var seq = tlv(ext.value, 0);
      var parts = children(ext.value, seq);
      this._ca = parts.length > 0 && parts[0].tag === 0x01 && ext.value[parts[0].start] !== 0;
    }
  }
  prop(BasicConstraints.prototype, 'IsPresent', function () { return Boolean(this._ext); });
  prop(BasicConstraints.prototype, 'IsCritical', function () { return Boolean(this._ext && this._ext.critical); });
  prop(BasicConstraints.prototype, 'IsCertificateAuthority', function () { return this._ca; });

  // CertificateStatus (Certificate.IsValid())
  function CertificateStatus(certificate) { this._certificate = certificate; }
  prop(CertificateStatus.prototype, 'Result', function () { return this._certificate._chainValid(); });
  prop(CertificateStatus.prototype, 'CheckFlag', function () { return 0; });
  method(CertificateStatus.prototype, 'propset_CheckFlag', function () { return undefined; });

  // PrivateKey (where the key is: the token)
  function PrivateKey(entry) { this._entry = entry; }
  prop(PrivateKey.prototype, 'ProviderName', function () { return productName(); });
  prop(PrivateKey.prototype, 'ProviderType', function () { return 80; });
  prop(PrivateKey.prototype, 'ContainerName', function () {
    var source = this._entry.source || {};
    return source.label || source.serial || this._entry.id;
  });
  prop(PrivateKey.prototype, 'UniqueContainerName', function () { return this._entry.id; });
  prop(PrivateKey.prototype, 'KeySpec', function () { return C.AT_SIGNATURE; });
  prop(PrivateKey.prototype, 'IsRemovable', function () { return true; });
  prop(PrivateKey.prototype, 'IsHardwareDevice', function () { return true; });
  unsupportedMethods(PrivateKey.prototype, ['ChangePin'], 'PrivateKey');

  // Certificate
  function Certificate(der, entry) {
    this._der = der;
    this._entry = entry || null;   // the agent's inventory entry (id, sha1, has_private_key, chain) when it has one
    this._info = der ? parseCertificate(der) : null;
    this._sha1 = entry && entry.sha1 ? String(entry.sha1).toUpperCase() : null;
  }
  Certificate.prototype._need = function () {
    if (!this._info) throw cadesError('Сертификат не загружен.', HR.NOT_FOUND);
    return this._info;
  };
  Certificate.prototype._chainValid = function () {
    if (this._entry && this._entry.chain) return this._entry.chain.status === 'valid';
    return transport.validate({certificate: bytesToBase64(this._der)}).then(function (report) {
      return report.exit_code === 0;
    });
  };
  prop(Certificate.prototype, 'SubjectName', function () { return this._need().subject; });
  prop(Certificate.prototype, 'IssuerName', function () { return this._need().issuer; });
  prop(Certificate.prototype, 'SerialNumber', function () { return this._need().serial; });
  prop(Certificate.prototype, 'Version', function () { return this._need().version; });
  prop(Certificate.prototype, 'ValidFromDate', function () { return this._need().notBefore.toISOString(); });
  prop(Certificate.prototype, 'ValidToDate', function () { return this._need().notAfter.toISOString(); });
  prop(Certificate.prototype, 'Thumbprint', function () {
    this._need();
    if (this._sha1) return this._sha1;
    throw cadesError('Отпечаток неизвестен: сертификата нет у ' + PRODUCT + '.', HR.NOT_FOUND);
  });
  prop(Certificate.prototype, 'PrivateKey', function () {
    if (!this._entry || !this._entry.has_private_key) {
      throw cadesError('Не удается найти закрытый ключ сертификата.', HR.SIGNER_NOT_FOUND);
    }
    return new PrivateKey(this._entry);
  });
  method(Certificate.prototype, 'HasPrivateKey', function () {
    return Boolean(this._entry && this._entry.has_private_key);
  });
  method(Certificate.prototype, 'IsValid', function () { this._need(); return new CertificateStatus(this); });
  method(Certificate.prototype, 'GetInfo', function (type) {
    var info = this._need();
    switch (Number(type)) {
      case C.CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME: return simpleName(info.subject);
      case C.CAPICOM_CERT_INFO_ISSUER_SIMPLE_NAME: return simpleName(info.issuer);
      case 2: return (/(?:^|, )E=([^,]*)/.exec(info.subject) || ['', ''])[1];  // SUBJECT_EMAIL_NAME
      case 3: return (/(?:^|, )E=([^,]*)/.exec(info.issuer) || ['', ''])[1];   // ISSUER_EMAIL_NAME
      default: return '';
    }
  });
  method(Certificate.prototype, 'PublicKey', function () { return new PublicKey(this._need()); });
  method(Certificate.prototype, 'ExtendedKeyUsage', function () {
    return new ExtendedKeyUsage(this._need().extensions['2.5.29.37']);
  });
  method(Certificate.prototype, 'KeyUsage', function () { return new KeyUsage(this._need().extensions['2.5.29.15']); });
  method(Certificate.prototype, 'BasicConstraints', function () {
    return new BasicConstraints(this._need().extensions['2.5.29.19']);
  });
  method(Certificate.prototype, 'Export', function (encoding) {
    this._need();
    if (Number(encoding || 0) === C.CADESCOM_ENCODE_BINARY) {
      return String.fromCharCode.apply(null, this._der);
    }
    return wrappedBase64(bytesToBase64(this._der));
  });
  method(Certificate.prototype, 'Import', function (data) {
    var der = base64ToBytes(data);
    var info = parseCertificate(der);
    this._der = der;
    this._info = info;
    this._entry = null;
    this._sha1 = null;
    var self = this;
    // Its inventory entry (private key, SHA-1) when the agent has the same certificate; else none.
    return transport.certificates().then(function (entries) {
      var b64 = bytesToBase64(der);
      entries.forEach(function (e) {
        if (e.certificate === b64) {
          self._entry = e;
          self._sha1 = String(e.sha1).toUpperCase();
        }
      });
    }, function () { return undefined; });
  });
  unsupportedMethods(Certificate.prototype, ['FindPrivateKey', 'Display', 'Load', 'ExtendedProperties',
    'Policies', 'Template', 'CertificatePolicies'], 'Certificate');

  // Certificates (a collection)
  function Certificates(items) { this._items = items; }
  prop(Certificates.prototype, 'Count', function () { return this._items.length; });
  method(Certificates.prototype, 'Item', function (index) {
    var item = this._items[Number(index) - 1];
    if (item === undefined) {
      throw cadesError('Неверный индекс ' + index + ': в коллекции ' + this._items.length + ' сертификатов.',
        HR.INVALID_ARG);
    }
    return item;
  });
  method(Certificates.prototype, 'Find', function (type, criteria, validOnly) {
    var now = new Date();
    var items = this._items;
    var when = criteria instanceof Date ? criteria : (criteria ? new Date(criteria) : now);
    if (isNaN(when.getTime())) when = now;
    var test;
    switch (Number(type)) {
      case C.CAPICOM_CERTIFICATE_FIND_SHA1_HASH: {
        var wanted = String(criteria || '').replace(/\s/g, '').toUpperCase();
        test = function (c) { return c._sha1 === wanted; };
        break;
      }
      case C.CAPICOM_CERTIFICATE_FIND_SUBJECT_NAME:
      case C.CAPICOM_CERTIFICATE_FIND_ISSUER_NAME: {
        var part = String(criteria || '').toLowerCase();
        var field = Number(type) === C.CAPICOM_CERTIFICATE_FIND_SUBJECT_NAME ? 'subject' : 'issuer';
        test = function (c) { return c._info[field].toLowerCase().indexOf(part) >= 0; };
        break;
      }
      case C.CAPICOM_CERTIFICATE_FIND_TIME_VALID:
        test = function (c) { return c._info.notBefore <= when && when <= c._info.notAfter; };
        break;
      case C.CAPICOM_CERTIFICATE_FIND_TIME_NOT_YET_VALID:
        test = function (c) { return when < c._info.notBefore; };
        break;
      case C.CAPICOM_CERTIFICATE_FIND_TIME_EXPIRED:
        test = function (c) { return c._info.notAfter < when; };
        break;
      case C.CAPICOM_CERTIFICATE_FIND_EXTENDED_PROPERTY:
        if (Number(criteria) !== PROPID_KEY_PROV_INFO) {
          throw refused('Поиск по расширенному свойству ' + criteria);
        }
        test = function (c) { return Boolean(c._entry && c._entry.has_private_key); };
        break;
      case C.CAPICOM_CERTIFICATE_FIND_KEY_USAGE: {
        var mask = typeof criteria === 'string' ? KEY_USAGE_FLAGS['Is' + criteria.replace(/^Is|Enabled$/g, '') +
          'Enabled'] : Number(criteria);
        if (!mask) throw cadesError('Неизвестное использование ключа: ' + criteria + '.', HR.INVALID_ARG);
        test = function (c) {
          var ext = c._info.extensions['2.5.29.15'];
          return !ext || (keyUsageBits(ext) & mask) === mask;  // no extension: any use (RFC 5280)
        };
        break;
      }
      default:
        throw refused('Поиск сертификатов по критерию ' + type);
    }
    var found = items.filter(test);
    if (validOnly) {
      found = found.filter(function (c) { return c._info.notBefore <= now && now <= c._info.notAfter; });
    }
    return new Certificates(found);
  });

  // Store
  function Store() {
    this._certificates = null;
    this._location = C.CAPICOM_CURRENT_USER_STORE;
    this._name = C.CAPICOM_MY_STORE;
  }
  prop(Store.prototype, 'Certificates', function () {
    if (!this._certificates) throw cadesError('Хранилище не открыто.', HR.INVALID_ARG);
    return new Certificates(this._certificates.slice());
  });
  prop(Store.prototype, 'Location', function () { return this._location; });
  prop(Store.prototype, 'Name', function () { return this._name; });
  method(Store.prototype, 'Open', function (location, name) {
    var loc = location === undefined ? C.CAPICOM_CURRENT_USER_STORE : Number(location);
    var storeName = name === undefined ? C.CAPICOM_MY_STORE : String(name);
    this._location = loc;
    this._name = storeName;
    var self = this;
    var personal = (loc === C.CAPICOM_CURRENT_USER_STORE && storeName.toLowerCase() === 'my') ||
      loc === C.CADESCOM_CONTAINER_STORE;
    if (!personal) {  // the agent holds the user's own certificates only: other stores are empty here
      this._certificates = [];
      return undefined;
    }
    return transport.certificates().then(function (entries) {
      self._certificates = entries.map(function (e) { return new Certificate(base64ToBytes(e.certificate), e); });
    });
  });
  method(Store.prototype, 'Close', function () { this._certificates = null; });
  unsupportedMethods(Store.prototype, ['Add', 'Remove', 'Import', 'AddCRL'], 'Store');

  // CPAttribute
  function CPAttribute() {
    this._name = null;
    this._value = null;
    this._oid = null;
    this._encoding = C.CADESCOM_STRING_TO_UCS2LE;
  }
  prop(CPAttribute.prototype, 'Name', function () { return this._name; }, function (v) { this._name = Number(v); });
  prop(CPAttribute.prototype, 'Value', function () { return this._value; }, function (v) { this._value = v; });
  prop(CPAttribute.prototype, 'ValueEncoding', function () { return this._encoding; },
    function (v) { this._encoding = Number(v); });
  prop(CPAttribute.prototype, 'OID', function () { return new Oid(this._oid || ''); }, function (v) {
    this._oid = String(v);
    throw refused('Произвольные подписываемые атрибуты (OID ' + v + ')');
  });

  // CPSigner
  function CPSigner() {
    this._certificate = null;
    this._options = C.CAPICOM_CERTIFICATE_INCLUDE_CHAIN_EXCEPT_ROOT;
    this._attributes = new AttributeList();
    this._unauthenticated = new AttributeList();
    this._tsa = '';
    this._checkCertificate = false;
    this._signingTime = null;
  }
  prop(CPSigner.prototype, 'Certificate', function () { return this._certificate; }, function (v) {
    if (!(v instanceof Certificate)) throw cadesError('Ожидается объект Certificate.', HR.INVALID_ARG);
    this._certificate = v;
  });
  prop(CPSigner.prototype, 'Options', function () { return this._options; }, function (v) {
    var n = Number(v);
    if (n !== 0 && n !== 1 && n !== 2) throw cadesError('Неверное значение Options: ' + v + '.', HR.INVALID_ARG);
    this._options = n;  // the agent puts the signer's certificate in; chain inclusion is the agent's choice
  });
  prop(CPSigner.prototype, 'AuthenticatedAttributes2', function () { return this._attributes; });
  prop(CPSigner.prototype, 'UnauthenticatedAttributes', function () { return this._unauthenticated; });
  // Accepted (pages set it routinely); used by CAdES-T only, which SignCades refuses.
  prop(CPSigner.prototype, 'TSAAddress', function () { return this._tsa; }, function (v) { this._tsa = String(v); });
  prop(CPSigner.prototype, 'CheckCertificate', function () { return this._checkCertificate; },
    function (v) { this._checkCertificate = Boolean(v); });
  // The PIN is typed in the agent's window, never handed over by the page: KeyPin is accepted and ignored.
  prop(CPSigner.prototype, 'KeyPin', function () { return ''; }, function () { return undefined; });
  prop(CPSigner.prototype, 'SigningTime', function () { return this._signingTime; });
  prop(CPSigner.prototype, 'SignatureTimeStampTime', function () {
    throw refused('Штамп времени подписи (CAdES-T)');
  });
  prop(CPSigner.prototype, 'Chain', function () { throw refused('CPSigner.Chain'); });

  CPSigner.prototype._documentAttributes = function () {
    var out = {filename: '', description: ''};
    this._attributes._items.forEach(function (a) {
      var value = a._value === null || a._value === undefined ? '' : String(a._value);
      if (a._encoding === C.CADESCOM_BASE64_TO_BINARY && a._name !== C.CADESCOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME) {
        try { value = utf8Decode(base64ToBytes(value)); } catch (e) { /* keep as given */ }
      }
      if (a._name === C.CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME) out.filename = value.slice(0, 255);
      if (a._name === C.CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION) out.description = value.slice(0, 2000);
      // signing time: the agent writes the time it signs (the page's clock is not the signer's claim)
    });
    return out;
  };

  function signerInfo(signer) {
    if (!(signer instanceof CPSigner)) throw cadesError('Ожидается объект CPSigner.', HR.INVALID_ARG);
    var cert = signer._certificate;
    if (!cert) throw cadesError('Не задан сертификат подписывающего.', HR.NO_SIGNER);
    if (!cert._entry || !cert._entry.has_private_key) {
      throw cadesError('Не удается найти сертификат и закрытый ключ для подписи.', HR.SIGNER_NOT_FOUND);
    }
    if (signer._checkCertificate && !(cert._entry.chain && cert._entry.chain.status === 'valid')) {
      // CheckCertificate: the signer's chain must be valid first (the agent's chain validation says it is not)
      throw cadesError('Не удалось проверить цепочку сертификата подписи: статус ' +
        ((cert._entry.chain && cert._entry.chain.status) || 'unknown') + '.', HR.CHAINING);
    }
    return cert._entry;
  }

  function checkCadesType(type) {
    var t = type === undefined ? C.CADESCOM_CADES_BES : Number(type);
    if (t === C.CADESCOM_CADES_T || t === C.CADESCOM_CADES_X_LONG_TYPE_1) {
      throw cadesError('Усовершенствованная подпись (CAdES-T, CAdES-X Long Type 1) со штампом времени не ' +
        'поддерживается в ' + PRODUCT + ': доступна CAdES-BES.', HR.NOT_IMPL);
    }
    if (t !== C.CADESCOM_CADES_BES && t !== C.CADESCOM_CADES_DEFAULT && t !== C.CADESCOM_PKCS7_TYPE) {
      throw cadesError('Неизвестный тип подписи: ' + type + '.', HR.INVALID_ARG);
    }
  }

  // HashedData
  var HASHES = {101: {name: 'streebog256', size: 32}, 102: {name: 'streebog512', size: 64}};
  function HashedData() {
    this._algorithm = C.CADESCOM_HASH_ALGORITHM_SHA1;  // CryptoPro's default too: pages set it
    this._encoding = C.CADESCOM_STRING_TO_UCS2LE;
    this._chunks = [];
    this._value = null;
    this._hashed = false;
  }
  function hashSpec(algorithm) {
    var spec = HASHES[algorithm];
    if (spec) return spec;
    if (algorithm === C.CADESCOM_HASH_ALGORITHM_CP_GOST_3411) {
      throw cadesError('Алгоритм хэширования ГОСТ Р 34.11-94 не поддерживается в ' + PRODUCT +
        ': используйте ГОСТ Р 34.11-2012 (101, 102).', HR.BAD_ALGID);
    }
    throw cadesError('Указан неправильный алгоритм хэширования (' + algorithm + '): ' + PRODUCT +
      ' поддерживает ГОСТ Р 34.11-2012 256 и 512 бит.', HR.BAD_ALGID);
  }
  prop(HashedData.prototype, 'Algorithm', function () { return this._algorithm; }, function (v) {
    var n = Number(v);
    hashSpec(n);
    this._algorithm = n;
  });
  prop(HashedData.prototype, 'DataEncoding', function () { return this._encoding; }, function (v) {
    this._encoding = Number(v);
  });
  prop(HashedData.prototype, 'Value', function () {
    if (this._value) return this._value;
    if (!this._hashed) throw cadesError('Данные для хэширования не заданы.', HR.INVALID_ARG);
    var self = this;
    var spec = hashSpec(this._algorithm);
    return transport.hash({content: bytesToBase64(concat(this._chunks)), algorithm: spec.name}).then(function (a) {
      self._value = a.digest.toUpperCase();
      return self._value;
    });
  });
  method(HashedData.prototype, 'Hash', function (data) {
    hashSpec(this._algorithm);
    var bytes = this._encoding === C.CADESCOM_BASE64_TO_BINARY ? base64ToBytes(data) : ucs2le(data);
    this._chunks.push(bytes);
    this._hashed = true;
    this._value = null;
  });
  method(HashedData.prototype, 'SetHashValue', function (value) {
    var spec = hashSpec(this._algorithm);
    var hex = String(value).replace(/\s/g, '');
    if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length !== 2 * spec.size) {
      throw cadesError('Неверное значение хэша: ожидается ' + 2 * spec.size + ' шестнадцатеричных цифр.',
        HR.INVALID_ARG);
    }
    this._value = hex.toUpperCase();
  });
  method(HashedData.prototype, 'Reset', function () { this._chunks = []; this._value = null; this._hashed = false; });
  prop(HashedData.prototype, 'Key', function () { throw refused('HMAC (HashedData.Key)'); });

  // Signer as seen in a verified signature (CadesSignedData.Signers)
  function SignerView(report, certificate) {
    this._report = report;
    this._certificate = certificate;
  }
  prop(SignerView.prototype, 'Certificate', function () { return this._certificate; });
  prop(SignerView.prototype, 'SigningTime', function () {
    return this._report.signing_time ? new Date(this._report.signing_time).toISOString() : '';
  });
  prop(SignerView.prototype, 'SignatureStatus', function () {
    return {IsValid: Promise.resolve(this._report.status === 'valid')};
  });
  prop(SignerView.prototype, 'AuthenticatedAttributes2', function () { return new AttributeList(); });

  // CadesSignedData
  function CadesSignedData() {
    this._encoding = C.CADESCOM_STRING_TO_UCS2LE;
    this._content = '';
    this._signature = null;   // the signature loaded by VerifyCades or made by SignCades (base64)
    this._detached = false;
    this._signers = [];
    this._certificates = [];
  }
  prop(CadesSignedData.prototype, 'ContentEncoding', function () { return this._encoding; }, function (v) {
    var n = Number(v);
    if (n !== C.CADESCOM_STRING_TO_UCS2LE && n !== C.CADESCOM_BASE64_TO_BINARY) {
      throw cadesError('Неверная кодировка содержимого: ' + v + '.', HR.INVALID_ARG);
    }
    this._encoding = n;
  });
  prop(CadesSignedData.prototype, 'Content', function () { return this._content; }, function (v) {
    this._content = v === undefined || v === null ? '' : String(v);
  });
  prop(CadesSignedData.prototype, 'DisplayData', function () { return C.CADESCOM_DISPLAY_DATA_NONE; },
    function () { return undefined; });  // the agent's window always shows what is signed
  prop(CadesSignedData.prototype, 'Signers', function () { return new List(this._signers.slice()); });
  prop(CadesSignedData.prototype, 'Certificates', function () { return new Certificates(this._certificates.slice()); });

  CadesSignedData.prototype._contentBytes = function () {
    return this._encoding === C.CADESCOM_BASE64_TO_BINARY ? base64ToBytes(this._content) : ucs2le(this._content);
  };

  CadesSignedData.prototype._signed = function (result) {
    this._signature = result.cms;
    return wrappedBase64(result.cms);
  };

  method(CadesSignedData.prototype, 'SignCades', function (signer, type, detached, encoding) {
    var entry = this._signing(signer, type, encoding);
    var doc = signer._documentAttributes();
    var body = {certificate_id: entry.id, content: bytesToBase64(this._contentBytes()), detached: Boolean(detached),
      content_type: this._encoding === C.CADESCOM_STRING_TO_UCS2LE ? 'text/plain; charset=utf-16le'
        : 'application/octet-stream', filename: doc.filename, description: doc.description};
    this._detached = Boolean(detached);
    return transport.sign(body).then(this._signed.bind(this));
  });

  function checkHashedData(hashedData) {
    if (!(hashedData instanceof HashedData)) throw cadesError('Ожидается объект HashedData.', HR.INVALID_ARG);
  }

  /** What every signing method checks first: the type, the encoding, the HashedData where one is needed, and
   * for a co-signature (`cosign`: the method that loads the signature) a signature already loaded; the signer's
   * agent entry. */
  CadesSignedData.prototype._signing = function (signer, type, encoding, hashedData, cosign) {
    if (hashedData !== undefined) checkHashedData(hashedData);
    checkCadesType(type);
    var entry = signerInfo(signer);
    if (encoding !== undefined && Number(encoding) !== C.CADESCOM_ENCODE_BASE64) {
      throw refused('Подпись в двоичной кодировке (EncodingType ' + encoding + ')');
    }
    if (cosign && !this._signature) {
      throw cadesError('Нет подписи для добавления подписи: сначала загрузите её методом ' + cosign + '.',
        HR.INVALID_ARG);
    }
    return entry;
  };

  method(CadesSignedData.prototype, 'SignHash', function (hashedData, signer, type, encoding) {
    var entry = this._signing(signer, type, encoding, hashedData);
    var doc = signer._documentAttributes();
    var self = this;
    return hashedData.Value.then(function (digest) {
      return transport.sign({certificate_id: entry.id, digest: digest.toLowerCase(), detached: true,
        filename: doc.filename, description: doc.description});
    }).then(function (result) {
      self._detached = true;
      return self._signed(result);
    });
  });

  method(CadesSignedData.prototype, 'CoSignCades', function (signer, type, encoding) {
    var entry = this._signing(signer, type, encoding, undefined, 'VerifyCades');
    var doc = signer._documentAttributes();
    var body = {certificate_id: entry.id, cms: this._signature, filename: doc.filename, description: doc.description};
    if (this._detached) body.content = bytesToBase64(this._contentBytes());
    return transport.cosign(body).then(this._signed.bind(this));
  });

  method(CadesSignedData.prototype, 'VerifyCades', function (signature, type, detached) {
    checkCadesType(type);
    var body = {signature: bytesToBase64(base64ToBytes(signature))};
    if (detached) body.content = bytesToBase64(this._contentBytes());
    return this._verify(body, Boolean(detached));
  });

  // VerifyHash / CoSignHash: a detached signature checked, or signed once more, by the content's digest alone
  // (a HashedData holding a GOST R 34.11-2012 value), without the document reaching the agent.
  method(CadesSignedData.prototype, 'VerifyHash', function (hashedData, signature, type) {
    checkHashedData(hashedData);
    checkCadesType(type);
    var body = {signature: bytesToBase64(base64ToBytes(signature))};
    var self = this;
    return hashedData.Value.then(function (digest) {
      body.digest = digest.toLowerCase();
      return self._verify(body, true);
    });
  });

  method(CadesSignedData.prototype, 'CoSignHash', function (hashedData, signer, type, encoding) {
    var entry = this._signing(signer, type, encoding, hashedData, 'VerifyHash');
    var doc = signer._documentAttributes();
    var self = this;
    return hashedData.Value.then(function (digest) {
      return transport.cosign({certificate_id: entry.id, cms: self._signature, digest: digest.toLowerCase(),
        filename: doc.filename, description: doc.description});
    }).then(this._signed.bind(this));
  });

  /** Verify through the agent (``body``: signature and content or digest); load the signature and its signers. */
  CadesSignedData.prototype._verify = function (body, detached) {
    var self = this;
    function loaded(report) {
      self._signature = body.signature;
      self._detached = detached;
      self._signers = (report.signers || []).map(function (s) { return new SignerView(s, null); });
      return loadSignerCertificates(self, report);
    }
    return transport.validate(body).then(function (report) {
      return loaded(report).then(function () { return verdict(report); });
    }, function (err) {
      if (!(err && err.agentCode === 'usage_error')) throw err;
      // The agent has no trusted root at all. As CryptoPro does, the signature itself is checked first (a changed
      // document is "hash value wrong" whatever the trust); if it holds, the chain cannot be checked to a root,
      // as CryptoPro says when the root is not installed. The signature is loaded either way (CoSign* may follow).
      var alone = Object.assign({}, body, {check_chain: false});
      return transport.validate(alone).then(function (report) {
        return loaded(report).then(function () {
          if (report.exit_code === 1) verdict(report);  // throws the signature's own error
          throw cadesError('Цепочка сертификатов не может быть проверена: в ' + PRODUCT + ' не задано ни одного ' +
            'доверенного корневого сертификата.', HR.UNTRUSTED_ROOT);
        });
      });
    });
  };
  method(CadesSignedData.prototype, 'EnhanceCades', function () {
    throw cadesError('Усовершенствование подписи (CAdES-T, CAdES-X Long Type 1) не поддерживается в ' + PRODUCT +
      '.', HR.NOT_IMPL);
  });

  /** The signers' certificates of a verified signature, as Certificate objects (with the agent's entry if any). */
  function loadSignerCertificates(signedData, report) {
    return transport.certificates().then(function (entries) { return entries; }, function () { return []; })
      .then(function (entries) {
        (report.signers || []).forEach(function (s, i) {
          var sha1 = s.signer && s.signer.sha1 ? String(s.signer.sha1).toUpperCase() : null;
          var entry = null;
          entries.forEach(function (e) { if (sha1 && String(e.sha1).toUpperCase() === sha1) entry = e; });
          var cert = entry ? new Certificate(base64ToBytes(entry.certificate), entry) : new Certificate(null, null);
          if (!entry && sha1) cert._sha1 = sha1;
          signedData._signers[i]._certificate = cert;
          if (entry) signedData._certificates.push(cert);
        });
      });
  }

  /** VerifyCades' verdict from the agent's report: nothing when valid, else CryptoPro's error for the case. */
  function verdict(report) {
    if (report.exit_code === 0) return undefined;
    var codes = [];
    (report.reasons || []).forEach(function (r) { codes.push(r.code); });
    (report.signers || []).forEach(function (s) { (s.reasons || []).forEach(function (r) { codes.push(r.code); }); });
    if (codes.indexOf('content_digest_algorithm') >= 0) {  // VerifyHash with a digest of another algorithm
      throw cadesError('Алгоритм хэширования не соответствует алгоритму подписи: задайте HashedData.Algorithm ' +
        'подписанта (101 или 102).', HR.BAD_ALGID);
    }
    if (codes.indexOf('message_digest_mismatch') >= 0) {
      throw cadesError('Хеш-значение неправильное: подписанные данные изменены.', HR.HASH_VALUE);
    }
    if (report.exit_code === 1) throw cadesError('Неправильная подпись. [' + codes.join(', ') + ']', HR.BAD_SIGNATURE);
    throw cadesError('Цепочка сертификатов подписи не проверена до доверенного корневого сертификата. [' +
      codes.join(', ') + ']', HR.UNTRUSTED_ROOT);
  }

  // Objects a page may create. ProgIDs are matched case-insensitively, as COM does.
  function newCertificate() { return new Certificate(null, null); }
  function construct(Type) { return function () { return new Type(); }; }
  var FACTORIES = {
    'cadescom.store': construct(Store), 'capicom.store': construct(Store),
    'cadescom.certificate': newCertificate, 'capicom.certificate': newCertificate,
    'cadescom.cpsigner': construct(CPSigner), 'cadescom.cpattribute': construct(CPAttribute),
    'cadescom.cadessigneddata': construct(CadesSignedData), 'cadescom.hasheddata': construct(HashedData),
    'cadescom.about': construct(About),
  };
  var REFUSED = {
    'cadescom.signedxml': 'XML-подпись (CAdESCOM.SignedXML)',
    'cadescom.envelopeddata': 'Шифрование (CAdESCOM.EnvelopedData)',
    'capicom.envelopeddata': 'Шифрование (CAPICOM.EnvelopedData)',
    'cadescom.rawsignature': 'Подпись хэша без CMS (CAdESCOM.RawSignature)',
    'cadescom.symmetricalgorithm': 'Симметричное шифрование (CAdESCOM.SymmetricAlgorithm)',
    'x509enrollment.cx509enrollment': 'Выпуск запросов на сертификат (X509Enrollment)',
  };

  function create(name) {
    var key = String(name).toLowerCase();
    if (FACTORIES[key]) return FACTORIES[key]();
    if (REFUSED[key]) throw refused(REFUSED[key]);
    throw cadesError('Недопустимая строка с указанием класса: ' + name + '.', 0x800401F3);  // CO_E_CLASSSTRING
  }

  // --- window.cadesplugin ------------------------------------------------------------------------------------------
  var resolvePlugin;
  var rejectPlugin;
  var cadesplugin = new Promise(function (resolve, reject) {
    resolvePlugin = resolve;
    rejectPlugin = reject;
  });
  var settled = false;

  Object.keys(CONSTANTS).forEach(function (name) { cadesplugin[name] = CONSTANTS[name]; });
  cadesplugin.__signagent = true;
  cadesplugin.JSModuleVersion = JS_MODULE_VERSION;
  cadesplugin.current_log_level = C.LOG_LEVEL_ERROR;
  cadesplugin.EnableInternalCSP = false;

  cadesplugin.CreateObjectAsync = function (name) {
    try {
      return Promise.resolve(create(name));
    } catch (e) {
      return Promise.reject(e);
    }
  };

  cadesplugin.ReleasePluginObjects = function () { return Promise.resolve(true); };

  /** Run a generator function, each `yield`ed promise resumed with its value (CryptoPro's samples use it). */
  cadesplugin.async_spawn = function (generatorFunc) {
    var generator = generatorFunc(Array.prototype.slice.call(arguments, 1));
    function step(verb, arg) {
      var result;
      try {
        result = generator[verb](arg);
      } catch (err) {
        return Promise.reject(err);
      }
      if (result.done) return result.value;
      return Promise.resolve(result.value).then(function (v) { return step('next', v); },
        function (e) { return step('throw', e); });
    }
    return step('next');
  };

  cadesplugin.set = function () { /* an NPAPI plug-in object: none here */ };

  cadesplugin.set_log_level = function (level) {
    if (level === C.LOG_LEVEL_DEBUG || level === C.LOG_LEVEL_INFO || level === C.LOG_LEVEL_ERROR) {
      cadesplugin.current_log_level = level;
    } else if (typeof console !== 'undefined') {
      console.error('cadesplugin_api.js: Incorrect log_level: ' + level);
    }
  };

  /** The message of an error of this object model (Russian text and " (0xHHHHHHHH)"), else the error itself. */
  cadesplugin.getLastError = function (exception) {
    if (exception && exception.message) return exception.message;
    return exception;
  };

  cadesplugin.is_capilite_enabled = function () { return false; };
  cadesplugin.get_extension_version = function (callback) {
    if (typeof callback === 'function') callback(productName());
  };

  function loaded(info) {
    if (settled) return;
    settled = true;
    resolvePlugin(info);
    window.postMessage('cadesplugin_loaded', '*');
  }

  function loadFailed(message) {
    if (settled) return;
    settled = true;
    rejectPlugin(message);
    window.postMessage('cadesplugin_load_error', '*');
  }

  window.cadesplugin = cadesplugin;

  var loading = false;

  /** Ask the agent whether it is there: window.cadesplugin resolves or rejects (with the vendor loader's strings). */
  function startLoading() {
    if (loading) return;
    loading = true;
    var timeout = Number(window.cadesplugin_load_timeout) || DEFAULT_LOAD_TIMEOUT_MS;
    setTimeout(function () { loadFailed('Истекло время ожидания загрузки плагина'); }, timeout);
    Promise.resolve().then(function () { return transport.info(timeout + 1000); }).then(function () {
      loaded();
    }, function (err) {
      loadFailed(err && err.hresult === HR.TIMEOUT ? 'Истекло время ожидания загрузки плагина' : 'Плагин недоступен');
    });
  }

  if (!OPTIONS.relay) {
    startLoading();  // the page loaded this script itself: it means to use it
  } else {
    // The extension puts this script into every page; only a page that uses window.cadesplugin should reach the
    // agent (else the agent would hear of every site the user opens). So loading starts on first use: a
    // `then`/`catch`/`finally` of the promise, or a method of it. `await cadesplugin` looks `then` up only when
    // the promise's `constructor` is not Promise itself (PromiseResolve, ECMA-262 section 27.2.4.7.1), hence the
    // own `constructor` below.
    ['then', 'catch', 'finally'].forEach(function (name) {
      var original = Promise.prototype[name];
      Object.defineProperty(cadesplugin, name, {configurable: true, writable: true, value: function () {
        startLoading();
        return original.apply(this, arguments);
      }});
    });
    Object.defineProperty(cadesplugin, 'constructor', {configurable: true, writable: true, value: Object});
    ['CreateObjectAsync', 'async_spawn'].forEach(function (name) {
      var original = cadesplugin[name];
      cadesplugin[name] = function () {
        startLoading();
        return original.apply(this, arguments);
      };
    });
  }
}());
