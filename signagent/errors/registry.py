"""The registry of error codes: every code signagent (and its simulator) raises, with its messages, in one table.

A code is a stable promise (``--json`` output and the HTTP API carry it): declared once here with the class that
carries it, whether retrying may help, and its wording in English and Russian. Classes of the error tree declare
only their ``code``; :class:`signagent.errors.SignAgentError` takes its default messages and ``retriable`` from
this table, and a raise site passes the details (``path=``, ``limit=``...) that fill the templates instead of
writing its own sentence.

A code may have several wordings (:class:`Message`): a raise site picks one by the ``situation`` detail ("the
file is missing" and "the path is a directory" are one code, ``file_access``, said differently), and among the
wordings that fit, the first whose ``{placeholders}`` the details all supply wins. The last wording of every code
fits any situation and has no placeholder, so a message is always whole.

Wordings never name a command-line option: a raise site that misses an input says which one in the ``needs``
detail and the command line adds its own flag (``signagent.cli._hints``).

This module, like the rest of :mod:`signagent.errors`, imports only the standard library.

Exports: Message, ErrorEntry, ENTRIES, REGISTRY, entry, render, placeholders, fill_template.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ENTRIES", "REGISTRY", "ErrorEntry", "Message", "entry", "fill_template", "placeholders", "render"]


@dataclass(frozen=True)
class Message:
    """One wording of a code: English and Russian templates with ``{name}`` placeholders filled from details.

    ``situation`` restricts it to raise sites that pass ``situation=<that value>``; "" fits every raise site.
    """

    en: str
    ru: str
    situation: str = ""


@dataclass(frozen=True)
class ErrorEntry:
    """A code, the dotted path of the class that carries it, its wordings (most specific first) and retriability."""

    code: str
    cls: str
    messages: tuple[Message, ...]
    retriable: bool = False

    @property
    def generic(self) -> Message:
        """The wording used when nothing more specific fits (the last one: no placeholder, any situation)."""
        return self.messages[-1]


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of a template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _e(code: str, cls: str, *messages: tuple[str, str] | tuple[str, str, str], retriable: bool = False
       ) -> ErrorEntry:
    return ErrorEntry(code, cls, tuple(Message(*m) for m in messages), retriable)


_E = "signagent.errors."
_T = "signagent.tokens.errors."

ENTRIES = (
    # -- the root and generic argument errors (signagent.errors) --
    _e("internal_error", _E + "SignAgentError", ("internal error", "внутренняя ошибка")),
    _e("invalid_input", _E + "InvalidInputError",
       ("{path}: the {what} file contains a NUL byte", "{path}: в файле ({what}) есть нулевой байт", "nul_byte"),
       ("{path}: the {what} file is not UTF-8 text (byte {byte})",
        "{path}: файл ({what}) -- не текст в UTF-8 (байт {byte})", "not_utf8"),
       ("{path}: the password file is empty", "{path}: файл пароля пуст", "empty_password_file"),
       ("the time must be timezone-aware", "время должно содержать часовой пояс", "naive_time"),
       ("{shown} is not a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint",
        "{shown} не является отпечатком SHA-1 или SHA-256", "thumbprint"),
       ("{what}: {value} is not valid ({problem})", "{what_ru} {value} недействителен ({problem})", "subject_field"),
       ("the {profile} profile needs the subject fields: {missing}",
        "для профиля {profile} нужны поля субъекта: {missing}", "profile_fields"),
       ("{what} body must be {length} ASCII digits, got {body}",
        "основа номера {what} должна состоять из {length} цифр", "checksum_body"),
       ("malformed encrypted private key: {detail}", "повреждён зашифрованный закрытый ключ: {detail}",
        "encrypted_key"),
       ("PBKDF2 iteration count must be in 1..{limit}", "число итераций PBKDF2 должно быть в пределах 1..{limit}",
        "iterations"),
       ("an empty password does not protect a key", "пустой пароль не защищает ключ", "empty_password"),
       ("the request needs a subject (at least a common name)", "в запросе нужен субъект (хотя бы общее имя)",
        "no_subject"),
       ("unknown kind {kind} ({known})", "неизвестный вид {kind}", "unknown_kind"),
       ("invalid input", "недопустимые входные данные")),
    _e("invalid_type", _E + "InvalidTypeError",
       ("{what} data must be bytes, not {type}", "данные должны быть байтовой строкой", "not_bytes"),
       ("argument of the wrong type", "аргумент неверного типа")),
    _e("invalid_length", _E + "InvalidLengthError", ("wrong length", "неверная длина")),
    _e("unknown_algorithm", _E + "UnknownAlgorithmError",
       ("unknown hash algorithm {name} (known: {known})", "неизвестный алгоритм хэширования {name}", "hash"),
       ("a GOST R 34.10-2001 key: signing with it is no longer allowed; use a GOST R 34.10-2012 key",
        "ключ ГОСТ Р 34.10-2001: подписывать им больше нельзя", "gost2001_key"),
       ("no GOST R 34.10-2012 key is {size} bytes long", "ключ ГОСТ Р 34.10-2012 не может иметь длину {size} байт",
        "key_size"),
       ("digest algorithm {algorithm} is not supported", "алгоритм хэширования {algorithm} не поддерживается",
        "digest"),
       ("unknown GOST R 34.10 parameter set {shown}", "неизвестный набор параметров ГОСТ Р 34.10: {shown}",
        "parameter_set"),
       ("unreadable signature algorithm identifier: {error}",
        "не удаётся прочитать идентификатор алгоритма подписи", "unreadable_signature_algorithm"),
       ("signature algorithm {algorithm} is not a GOST algorithm signagent verifies",
        "алгоритм подписи {algorithm} не является поддерживаемым алгоритмом ГОСТ", "not_gost_signature"),
       ("the public key algorithm {algorithm} is not GOST R 34.10",
        "алгоритм открытого ключа {algorithm} не является ГОСТ Р 34.10", "not_gost_key"),
       ("signature algorithm {algorithm} does not fit a {key} key",
        "алгоритм подписи {algorithm} не соответствует ключу {key}", "key_mismatch"),
       ("unknown algorithm or parameter set", "неизвестный алгоритм или набор параметров")),
    _e("invalid_key", _E + "InvalidKeyError",
       ("unreadable public key algorithm: {error}", "не удаётся прочитать алгоритм открытого ключа",
        "unreadable_algorithm"),
       ("unreadable GOST key parameters: {error}", "не удаётся прочитать параметры ключа ГОСТ",
        "unreadable_parameters"),
       ("the GOST public key has no parameters (publicKeyParamSet is required)",
        "у открытого ключа ГОСТ нет параметров (publicKeyParamSet)", "no_parameters"),
       ("a {key} key cannot use the {bits}-bit parameter set {param_set}",
        "ключ {key} не может использовать {bits}-битный набор параметров {param_set}", "parameter_size"),
       ("the GOST public key is not an OCTET STRING inside the BIT STRING: {error}",
        "открытый ключ ГОСТ не является OCTET STRING внутри BIT STRING", "not_octet_string"),
       ("invalid key", "недопустимый ключ")),
    _e("invalid_point", _E + "InvalidPointError",
       ("the point is not a valid public key on this curve",
        "точка не является допустимым открытым ключом на этой кривой")),
    _e("invalid_signature_format", _E + "InvalidSignatureFormatError",
       ("the signer returned a signature that does not verify with its own key",
        "подпись запроса не проверяется открытым ключом подписанта", "self_check"),
       ("malformed signature value", "неверный формат значения подписи")),
    _e("usage_error", _E + "UsageError",
       ("no trust anchor: give trusted roots or import them into the trust store",
        "нет доверенных корневых сертификатов: укажите их или импортируйте в хранилище", "no_trust_anchor"),
       ("not an ISO-8601 time: {value}", "время не в формате ISO-8601: {value}", "bad_time"),
       ("the year must be between {first} and {last}, not {year}",
        "год должен быть от {first} до {last}, а не {year}", "year_out_of_range"),
       ("name the token: its label or serial", "укажите токен: метку или серийный номер", "token_unnamed"),
       ("name the certificate: the id `signagent certs` shows, the SHA-1 thumbprint or a certificate file",
        "укажите сертификат: ИД как в `signagent certs`, отпечаток SHA-1 или файл сертификата", "cert_unnamed"),
       ("'{ref}' is neither a certificate id (at least {min_digits} hex digits) nor a certificate file",
        "«{ref}»: это не идентификатор сертификата (не менее {min_digits} шестнадцатеричных цифр) "
        "и не файл сертификата", "cert_ref_invalid"),
       ("{ref} matches {count} certificates on «{token}»; give more digits",
        "{ref}: на токене «{token}» подходят {count} сертификата; укажите больше цифр", "cert_ref_ambiguous"),
       ("give exactly one key: an existing key pair or a new one",
        "укажите ровно один ключ: существующую пару или новую", "one_key"),
       ("give exactly one of a certificate and a key id",
        "укажите ровно одно: сертификат или идентификатор ключа", "cert_or_key_id"),
       ("several tokens are labelled '{label}': {tokens}; give the serial instead",
        "несколько токенов с меткой «{label}»: {tokens}; укажите серийный номер", "label_ambiguous"),
       ("«{label}» is not a PKCS#11 token: it cannot {action}",
        "«{label}» не является токеном PKCS#11: {action_ru} невозможно", "not_pkcs11"),
       ("the certificate {cert_id} is already on «{label}»", "сертификат {cert_id} уже есть на токене «{label}»",
        "certificate_present"),
       ("a new key is written encrypted: give a password (or explicitly allow an unencrypted key)",
        "новый ключ записывается зашифрованным: укажите пароль (или явно разрешите запись без пароля)",
        "password_needed"),
       ("only one of the signature and the content can be read from standard input",
        "со стандартного ввода можно читать только подпись или только содержимое", "stdin_twice"),
       ("empty {what}", "пустой {what_ru}", "empty_secret"),
       ("the {what} is not valid text in the terminal's encoding (UTF-8 expected)",
        "{what_ru} -- недопустимый текст: ожидается UTF-8", "secret_not_text"),
       ("the {what} must be at most {limit} bytes, without NUL",
        "{what_ru} должен быть не длиннее {limit} байт и без нулевых символов", "secret_too_long"),
       ("at must be a datetime, 'signing-time' or None",
        "время проверки: дата и время, 'signing-time' или ничего", "bad_at"),
       ("refusing to write a private key without a password (ask for it explicitly)",
        "закрытый ключ без пароля записывается только по явному указанию", "unencrypted_key"),
       ("wrong usage", "неверный вызов")),
    _e("config_invalid", "signagent.service.config.ConfigError",
       ("invalid configuration", "неверная конфигурация")),
    # -- the localhost API (signagent.service.access, signagent.api.server; DESIGN.md section 5) --
    _e("host_not_allowed", "signagent.service.access.HostNotAllowedError",
       ("the Host header {host} is not this agent's address", "заголовок Host {host} -- не адрес этого агента"),
       ("the request is not addressed to this agent (Host header)",
        "запрос адресован не этому агенту (заголовок Host)")),
    _e("origin_not_paired", "signagent.service.access.OriginNotPairedError",
       ("{origin} is not in the list of paired sites", "сайта {origin} нет в списке подключённых", "not_in_list"),
       ("the site {origin} is not paired with the agent: pair it first",
        "сайт {origin} не подключён к агенту: сначала подключите его"),
       ("this site is not paired with the agent", "этот сайт не подключён к агенту")),
    _e("origin_invalid", "signagent.service.access.OriginInvalidError",
       ("an opaque origin (null) cannot be paired", "непрозрачный источник (null) нельзя подключить", "opaque"),
       ("pairing is asked by a web page: the request needs an Origin header",
        "подключение запрашивает веб-страница: нужен заголовок Origin", "missing"),
       ("{origin} is not a web origin (scheme://host[:port])", "{origin} -- не источник (схема://узел[:порт])",
        "malformed"),
       ("only a paired browser extension may name the page it speaks for ({header})",
        "называть страницу, от имени которой идёт запрос ({header}), может только подключённое расширение браузера",
        "claim"),
       ("a browser extension uses the agent only for the pages it names ({header})",
        "расширение браузера обращается к агенту только от имени страниц, которые оно называет ({header})",
        "extension_itself"),
       ("a browser extension's key ({header}) is 32 to 128 characters of base64url",
        "ключ расширения браузера ({header}) -- от 32 до 128 символов base64url", "extension_key"),
       ("not a valid web origin", "недопустимый источник (origin)")),
    _e("extension_not_paired", "signagent.service.access.ExtensionNotPairedError",
       ("the browser extension {origin} is not paired with the agent: allow it in the agent's window first",
        "расширение браузера {origin} не подключено к агенту: сначала разрешите его в окне агента"),
       ("this browser extension is not paired with the agent", "это расширение браузера не подключено к агенту")),
    _e("local_secret_required", "signagent.service.access.LocalSecretRequiredError",
       ("a request without Origin needs the agent's local secret (wrong or missing)",
        "запросу без Origin нужен локальный секрет агента (неверный или отсутствует)")),
    _e("agent_origin_required", "signagent.service.access.AgentOriginRequiredError",
       ("a decision is accepted only from the agent's own page", "решение принимается только со страницы агента")),
    _e("consent_token_invalid", "signagent.service.access.ConsentTokenInvalidError",
       ("the confirmation token does not match this request", "код подтверждения не соответствует запросу")),
    _e("request_not_found", "signagent.service.access.RequestNotFoundError",
       ("no such request (unknown or forgotten)", "такого запроса нет (неизвестен или забыт)")),
    _e("request_expired", "signagent.service.access.RequestExpiredError",
       ("the request has expired: ask again", "срок запроса истёк: отправьте его снова")),
    _e("request_finished", "signagent.service.access.RequestFinishedError",
       ("the request is already {status}", "запрос уже завершён ({status})", "decided"),
       ("the request is already finished", "запрос уже завершён")),
    _e("rate_limited", "signagent.service.access.RateLimitedError",
       ("too many pairing requests from {origin}: wait {seconds} s", "слишком много запросов на подключение от "
        "{origin}: подождите {seconds} с", "pairing"),
       ("too many requests from {origin}: wait {seconds} s", "слишком много запросов от {origin}: подождите "
        "{seconds} с", "requests"),
       ("the PIN was wrong {attempts} times: the request is cancelled, ask again",
        "PIN-код введён неверно {attempts} раза: запрос отменён, повторите его заново", "pin"),
       ("too many requests: wait and try again", "слишком много запросов: подождите и повторите"), retriable=True),
    _e("endpoint_not_found", "signagent.service.access.EndpointNotFoundError",
       ("no endpoint {method} {path}", "нет точки доступа {method} {path}"),
       ("no such endpoint", "нет такой точки доступа")),
    _e("request_invalid", "signagent.service.access.RequestInvalidError",
       ("invalid request: {detail}", "неверный запрос: {detail}"),
       ("invalid request", "неверный запрос")),
    _e("port_in_use", "signagent.api.server.PortInUseError",
       ("port {port} on {host} is already in use (another agent running?)",
        "порт {port} на {host} уже занят (агент уже запущен?)"),
       ("the port is already in use", "порт уже занят")),
    _e("api_host_refused", "signagent.api.server.ApiHostRefusedError",
       ("the agent listens on 127.0.0.1 only, not on {host}", "агент принимает соединения только на 127.0.0.1, "
        "а не на {host}"),
       ("the agent listens on 127.0.0.1 only", "агент принимает соединения только на 127.0.0.1")),
    # -- files (signagent.fileio raises these for every command: one code per situation) --
    _e("file_access", _E + "FileAccessError",
       ("{path}: no such file", "{path}: файл не найден", "missing"),
       ("{path}: is a directory", "{path}: это каталог", "directory"),
       ("{path}: is a directory; give the certificate file", "{path}: это каталог; укажите файл сертификата",
        "directory_not_certificate"),
       ("{path}: permission denied", "{path}: нет прав доступа", "permission"),
       ("{path}: not a readable file", "{path}: файл недоступен", "unreadable"),
       ("cannot read the {what}: {error}", "не удаётся прочитать: {what_ru}", "read_failed"),
       ("{path}: {error}", "{path}: нет доступа к файлу", "os_error"),
       ("{path}: {error}", "{path}: ошибка ввода-вывода", "io_error"),
       ("{path}: {error}", "{path}: нет доступа к каталогу", "directory_unreadable"),
       ("{path}: cannot write: {error}", "{path}: невозможно записать файл", "cannot_write"),
       ("{path} already exists", "{path} уже существует", "exists"),
       ("{path}: cannot access the file", "{path}: нет доступа к файлу"),
       ("cannot access the file", "нет доступа к файлу")),
    _e("not_a_regular_file", _E + "NotRegularFileError",
       ("{path}: is {kind}; the output must be a regular file (use '-' for standard output)",
        "{path}: это {kind_ru}; результат записывается только в обычный файл ('-' -- стандартный вывод)", "output"),
       ("{path}: is {kind}, not a regular file", "{path}: это {kind_ru}, а не обычный файл"),
       ("{path}: not a regular file", "{path}: это не обычный файл"),
       ("not a regular file", "это не обычный файл")),
    # -- hostile input caps --
    _e("input_too_large", _E + "InputTooLargeError",
       ("{path}: the {what} file is larger than {limit} bytes", "{path}: файл ({what}) больше {limit} байт",
        "secret"),
       ("{path}: {size} bytes is more than the {limit}-byte limit for a {what} file",
        "{path}: размер {size} байт превышает предел {limit} байт"),
       ("{path}: more than the {limit}-byte limit for a {what}", "{path}: размер превышает предел {limit} байт"),
       ("the {what} is larger than {limit} bytes", "{what_ru}: больше {limit} байт"),
       ("the PBKDF2 salt is {size} bytes, more than {limit}", "соль PBKDF2 длиной {size} байт, больше {limit}", "salt"),
       ("content read from a pipe is limited to {limit_mib} MiB for an attached signature: sign a regular file, "
        "or make a detached signature", "содержимое из канала для присоединённой подписи ограничено {limit_mib} МиБ: "
        "подпишите обычный файл или сделайте отсоединённую подпись", "pipe"),
       ("the input is larger than allowed", "входные данные больше допустимого размера")),
    _e("too_many_elements", _E + "TooManyElementsError",
       ("the input holds more elements than allowed", "во входных данных больше элементов, чем допустимо")),
    _e("nesting_too_deep", _E + "NestingTooDeepError",
       ("{what} is nested deeper than {limit} levels", "{what_ru}: вложенность глубже {limit} уровней"),
       ("the input is nested too deeply", "слишком глубокая вложенность входных данных")),
    _e("integer_too_large", _E + "IntegerTooLargeError",
       ("{what} {value} is outside the accepted range {minimum}..{maximum}",
        "{what_ru} {value} вне допустимого диапазона {minimum}..{maximum}"),
       ("an integer in the input is too large", "слишком большое целое число во входных данных")),
    _e("kdf_iterations_too_high", _E + "KdfIterationsError",
       ("the key file asks for {iterations} PBKDF2 iterations, more than the {limit} this program accepts "
        "(real keys use about 2,000)",
        "в файле ключа задано {iterations} итераций PBKDF2, больше допустимых {limit_ru}"),
       ("the key file asks for too many key-derivation iterations",
        "в файле ключа задано слишком много итераций выработки ключа")),
    _e("not_der", _E + "NotDerError",
       ("the {what} is not DER: its outer SEQUENCE holds {count} elements, more than 3 (RFC 5280 {section})",
        "{what_ru} не в DER: внешняя SEQUENCE содержит {count} элементов вместо 3", "outer_sequence"),
       ("BER indefinite length at offset {offset}: a {what} must be DER",
        "неопределённая длина BER по смещению {offset}: требуется DER", "indefinite_length"),
       ("{what} is not DER: {problem} at offset {offset}",
        "{what}: кодировка не соответствует DER: {problem_ru} (смещение {offset})", "at_offset"),
       ("{what} is not DER: it cannot be re-encoded ({detail})",
        "{what}: кодировка не соответствует DER (не удаётся перекодировать)", "not_reencodable"),
       ("not DER-encoded", "кодировка не соответствует DER")),
    # -- certificates, CRLs, trust --
    _e("certificate_malformed", _E + "CertificateFormatError",
       ("{path}: no certificates in the directory ({detail})", "{path}: в каталоге нет сертификатов",
        "empty_directory"),
       ("expected one certificate, found {count}", "ожидался один сертификат, найдено {count}", "not_one"),
       ("unsupported certificate version {version}", "неподдерживаемая версия сертификата {version}", "version"),
       ("the validity {field} is not a date and time", "срок действия сертификата задан не датой", "validity"),
       ("this is a certificate revocation list (CRL), not a certificate",
        "это список отзыва сертификатов (CRL), а не сертификат", "is_crl"),
       ("malformed certificate: {reason}", "повреждённый сертификат: {reason}", "malformed"),
       ("a certificate cannot be processed: {reason}", "сертификат не удаётся обработать", "unprocessable"),
       ("{what}: expected a certificate, got {type}", "{what}: ожидался сертификат", "wrong_type"),
       ("expected a certificate, got {type}", "ожидался сертификат", "wrong_type"),
       ("the certificate's public key cannot be used: {error}", "открытый ключ сертификата непригоден: {error_ru}",
        "unusable_key"),
       ("{path}: neither a certificate (DER, PEM, base64, PKCS#7) nor a CRL",
        "{path}: не сертификат и не список отзыва", "neither_certificate_nor_crl"),
       ("not a readable certificate", "не удаётся прочитать сертификат")),
    _e("crl_malformed", _E + "CrlFormatError",
       ("expected a CRL, got {type}", "ожидался список отзыва", "wrong_type"),
       ("not a readable CRL: {detail}", "не удаётся прочитать список отзыва"),
       ("not a readable certificate revocation list", "не удаётся прочитать список отзыва сертификатов")),
    _e("tsl_malformed", _E + "TslFormatError",
       ("not a readable list of accredited certification authorities",
        "не удаётся прочитать список аккредитованных удостоверяющих центров")),
    _e("trust_store_error", _E + "TrustStoreError",
       ("the trust store path {path} cannot be resolved ({error})", "путь хранилища {path} недоступен",
        "unresolvable"),
       ("cannot {action} the trust store at {path}: {error}",
        "не удаётся изменить хранилище доверенных сертификатов {path}", "cannot_change"),
       ("the trust store index {path} leads outside the store: the store is damaged",
        "индекс хранилища {path} указывает за пределы хранилища", "index_outside"),
       ("the trust store index {path} is damaged ({problem}); remove it and import again",
        "индекс хранилища доверенных сертификатов {path} повреждён", "index_damaged"),
       ("the trust store file {path} leads outside the store (to {target}): the store is damaged",
        "файл хранилища {path} указывает за пределы хранилища", "file_outside"),
       ("{path} does not match its thumbprint {sha1}: the store is damaged",
        "файл {path} не совпадает с отпечатком: хранилище повреждено", "thumbprint_mismatch"),
       ("{path} is not a readable certificate ({error}): the store is damaged",
        "файл {path} не является читаемым сертификатом: хранилище повреждено", "unreadable_certificate"),
       ("the trust store is damaged: {error}", "хранилище доверенных сертификатов повреждено: {error_ru}",
        "damaged"),
       ("{certificate} ({sha1}) is already in the store as {kind}; remove it first to store it as {new_kind}",
        "{certificate} ({sha1}) уже есть в хранилище", "already_stored"),
       ("trust store error", "ошибка хранилища доверенных сертификатов")),
    _e("trust_manifest_invalid", "signagent.trust.manifest.ManifestFormatError",
       ("trust-anchor manifest: {where}: {problem}",
        "файл описания доверенных корневых сертификатов: {where}: {problem}"),
       ("the trust-anchor manifest is invalid", "файл описания доверенных корневых сертификатов повреждён")),
    _e("trust_entry_not_found", "signagent.trust.store.TrustEntryNotFoundError",
       ("no certificate or CRL with thumbprint {thumbprint} in {store}",
        "в хранилище нет сертификата с отпечатком {thumbprint}"),
       ("no such certificate in the trust store", "в хранилище нет такого сертификата")),
    _e("trust_not_ca", "signagent.trust.store.NotCaCertificateError",
       ("{certificate} is not a CA certificate (basicConstraints cA is not TRUE): refused as {kind}",
        "{certificate} не является сертификатом УЦ (basicConstraints cA не TRUE)", "not_ca"),
       ("{path}: {certificate} ({sha1}) is not a CA certificate; only root and intermediate CA certificates go "
        "into the trust store", "{path}: {certificate} не является сертификатом УЦ", "import_not_ca"),
       ("{certificate} has keyUsage without keyCertSign: it may not sign certificates",
        "{certificate}: в keyUsage нет keyCertSign, сертификат не может подписывать сертификаты",
        "no_key_cert_sign"),
       ("not a CA certificate: it cannot be a root or an intermediate",
        "сертификат не является сертификатом УЦ и не может быть корневым или промежуточным")),
    _e("trust_root_not_self_signed", "signagent.trust.store.NotSelfSignedError",
       ("{certificate} cannot be a root: {problem}",
        "{certificate} не может быть корневым: он не самоподписанный или его подпись неверна"),
       ("a root certificate must be self-signed", "корневой сертификат должен быть самоподписанным")),
    _e("download_failed", _E + "DownloadError",
       ("refusing to fetch {url}: only http and https addresses are used",
        "адрес {url} не загружается: допускаются только http и https", "scheme"),
       ("{url}: HTTP {status}", "{url}: код ответа HTTP {status}", "http_status"),
       ("{url}: a response of more than {limit} bytes", "{url}: ответ больше {limit} байт", "too_large"),
       ("{url}: no complete answer within {timeout} s", "{url}: нет полного ответа за {timeout} с", "timeout"),
       ("{url}: too many redirects", "{url}: слишком много перенаправлений", "redirects"),
       ("{url}: {error_type}: {error}", "{url}: ошибка загрузки ({error_type})", "http_error"),
       ("download failed", "не удалось загрузить данные"), retriable=True),
    _e("fingerprint_mismatch", _E + "FingerprintMismatchError",
       ("{anchor}: the file from {url} has SHA-256 {actual}, the manifest pins {expected}",
        "{anchor}: файл с {url} имеет SHA-256 {actual}, а закреплён {expected}"),
       ("the downloaded certificate does not match its pinned fingerprint",
        "загруженный сертификат не совпадает с закреплённым отпечатком")),
    # -- CMS, requests, key files --
    _e("cms_malformed", "signagent.cms.errors.CmsFormatError",
       ("not a readable CMS signature: {detail}", "не удаётся прочитать подпись CMS: {detail_ru}"),
       ("not a readable CMS signature", "не удаётся прочитать подпись CMS")),
    _e("cms_content_missing", "signagent.cms.errors.CmsContentMissingError",
       ("the signature is detached: the signed content is needed",
        "подпись отсоединённая: нужны подписанные данные")),
    _e("cms_signing_failed", "signagent.cms.errors.CmsSigningError",
       ("the certificate's public key is not a usable GOST key: {error}",
        "открытый ключ сертификата не является пригодным ключом ГОСТ", "unusable_key"),
       ("the private key does not belong to the certificate", "закрытый ключ не соответствует сертификату",
        "key_mismatch"),
       ("only GOST R 34.10-2012 keys sign (not GOST R 34.10-2001)",
        "подписывать можно только ключами ГОСТ Р 34.10-2012", "gost2001"),
       ("the signer returned {got} bytes, not a {expected}-byte signature",
        "подписывающее устройство вернуло подпись неверной длины", "signature_length"),
       ("the content changed while it was being signed ({seen} bytes read, {size} expected)",
        "подписываемый файл изменился во время подписи", "content_changed"),
       ("this key signs a {expected} digest; a {given} digest was given",
        "этот ключ подписывает хэш-значение {expected}, а передано {given}", "digest_algorithm"),
       ("cannot sign with this certificate and key", "невозможно подписать этим сертификатом и ключом")),
    _e("csr_malformed", "signagent.cms.pkcs10.RequestFormatError",
       ("the request's signature algorithm carries parameters, which GOST algorithms forbid",
        "у алгоритма подписи запроса есть параметры, а для ГОСТ они запрещены", "signature_parameters"),
       ("not a readable certification request: {detail}", "не удаётся прочитать запрос на сертификат: {detail}"),
       ("not a readable certification request", "не удаётся прочитать запрос на сертификат")),
    _e("key_malformed", "signagent.pkcs8.keyfile.KeyFileFormatError",
       ("not a readable private key: {detail}", "не удаётся прочитать закрытый ключ: {detail}"),
       ("not a readable private key file", "не удаётся прочитать файл закрытого ключа")),
    _e("key_not_gost", "signagent.pkcs8.keyfile.NotGostKeyError",
       ("a {algorithm} private key, not a GOST R 34.10-2012 key",
        "закрытый ключ {algorithm}, а не ГОСТ Р 34.10-2012"),
       ("not a GOST R 34.10-2012 private key", "это не закрытый ключ ГОСТ Р 34.10-2012")),
    _e("password_required", "signagent.pkcs8.keyfile.PasswordRequiredError",
       ("the private key is encrypted: a password is needed", "закрытый ключ зашифрован: нужен пароль")),
    _e("invalid_password", "signagent.pkcs8.pbes2.InvalidPasswordError",
       ("wrong password for the private key (or a damaged key file)",
        "неверный пароль закрытого ключа (или файл ключа повреждён)")),
    _e("unsupported_key_encryption", "signagent.pkcs8.pbes2.UnsupportedKeyEncryptionError",
       ("the private key is encrypted with an unsupported {what}: {scheme} (supported: PBES2 with "
        "PBKDF2-HMAC-SHA*/Streebog-512 and AES-CBC or GOST 28147-89 CFB, param set Z)",
        "закрытый ключ зашифрован неподдерживаемым алгоритмом ({what}: {scheme})"),
       ("the private key is encrypted with an unsupported scheme",
        "закрытый ключ зашифрован неподдерживаемым алгоритмом")),
    # -- tokens (CKR_* values map to these in signagent.tokens.errors.CKR_ERRORS) --
    _e("token_error", _T + "TokenError",
       ("the PKCS#11 module was closed", "модуль PKCS#11 закрыт", "module_closed"),
       ("the token returned a {got}-byte signature, expected {expected}", "токен вернул подпись неверной длины",
        "signature_length"),
       ("the token returned an unreadable public key", "токен вернул неверный ключ", "bad_public_key"),
       ("the token reported an error", "ошибка токена")),
    _e("pin_incorrect", _T + "PinIncorrectError",
       ("wrong password for the key file", "неверный пароль файла ключа", "key_file_password"),
       ("incorrect PIN ({tries_left} attempt(s) left)", "неверный PIN-код (осталось попыток: {tries_left})"),
       ("incorrect PIN", "неверный PIN-код"), retriable=True),
    _e("pin_locked", _T + "PinLockedError",
       ("the PIN is locked; it must be unblocked with the administrator PIN",
        "PIN-код заблокирован; разблокируйте его PIN-кодом администратора")),
    _e("pin_required", _T + "PinRequiredError",
       ("the key file is encrypted: its password is needed", "файл ключа зашифрован: нужен пароль",
        "key_file_encrypted"),
       ("a PIN is required", "требуется PIN-код"), retriable=True),
    _e("token_removed", _T + "TokenRemovedError",
       ("the token '{label}' ({serial}) was removed: {detail}", "токен «{label}» ({serial}) извлечён", "removed"),
       ("the card is not in the reader ({detail})", "карта отсутствует в считывателе", "card_absent"),
       ("another card is in the reader", "в считывателе другая карта", "other_card"),
       ("the token «{label}» ({serial}) is not connected any more", "токен «{label}» ({serial}) больше не подключён",
        "gone"),
       ("the token was removed", "токен извлечён"), retriable=True),
    _e("token_not_found", _T + "TokenNotFoundError",
       ("no token {wanted} in {path}", "токен {wanted} не найден в модуле {path}", "in_module"),
       ("token not found", "токен не найден"), retriable=True),
    _e("module_load_failed", _T + "ModuleLoadError",
       ("PyKCS11 is not installed: no PKCS#11 module can be loaded",
        "PyKCS11 не установлен: модули PKCS#11 недоступны", "no_pykcs11"),
       ("PKCS#11 module not found: {path}", "модуль PKCS#11 не найден: {path}", "missing"),
       ("{path} is not a loadable PKCS#11 module ({error})", "{path} не является загружаемым модулем PKCS#11",
        "not_loadable"),
       ("cannot load the PKCS#11 module", "не удаётся загрузить модуль PKCS#11")),
    _e("key_not_found", _T + "KeyNotFoundError",
       ("no certificate {ref} on the token «{label}» ({serial})",
        "на токене «{label}» ({serial}) нет сертификата {ref}", "no_certificate"),
       ("the certificate {cert_id} on «{label}» has no private key there",
        "для сертификата {cert_id} на токене «{label}» нет закрытого ключа", "no_key"),
       ("no object with id {key_id} on «{label}»", "на токене «{label}» нет объектов с идентификатором {key_id}",
        "no_object"),
       ("no certificate {cert_id} on the token '{label}'", "на токене «{label}» нет сертификата {cert_id}",
        "no_token_certificate"),
       ("no GOST key pair with id {key_id} on the token '{label}'", "на токене «{label}» нет ключевой пары {key_id}",
        "no_key_pair"),
       ("the token holds no key pair for this certificate", "на токене нет ключевой пары для этого сертификата",
        "no_pair_for_certificate"),
       ("no key file {name} in {directory}", "в каталоге {directory} нет файла ключа {name}", "no_key_file"),
       ("the key file does not hold the certificate's key", "файл ключа не содержит ключ этого сертификата",
        "key_file_mismatch"),
       ("the token holds no private key for this certificate",
        "на токене нет закрытого ключа для этого сертификата")),
    _e("mechanism_unsupported", _T + "MechanismUnsupportedError",
       ("the token cannot sign a ready digest: it hashes on the device, so it must be given the message",
        "токен не подписывает готовый хэш: он хэширует сам, ему нужны сами данные", "hashes_on_device"),
       ("the token has no GOST R 34.10-2012 {bits}-bit signing mechanism",
        "токен не поддерживает подпись ГОСТ Р 34.10-2012", "no_sign_mechanism"),
       ("the token cannot generate {bits}-bit GOST keys", "токен не умеет создавать ключи ГОСТ такой длины",
        "no_keygen"),
       ("the token does not support the required mechanism", "токен не поддерживает нужный механизм")),
    _e("pkcs15_error", "signagent.tokens.pkcs15.Pkcs15Error",
       ("the card refused {what} (SW {sw})", "карта отказала: {what} (SW {sw})", "refused"),
       ("malformed PKCS#15 record: {error}", "неверная запись PKCS#15", "record"),
       ("no PKCS#15 application on the card (SELECT: SW {sw})", "на карте нет приложения PKCS#15",
        "no_application"),
       ("malformed PKCS#15 path {ef_path}", "неверный путь PKCS#15", "ef_path"),
       ("empty EF.TokenInfo", "пустой файл EF.TokenInfo", "empty_token_info"),
       ("a certificate stored behind a URL is not supported", "сертификат по URL не поддерживается",
        "url_certificate"),
       ("the card has no readable PKCS#15 application", "на карте нет читаемого приложения PKCS#15")),
    _e("pcsc_unavailable", "signagent.tokens.pcsc.PcscUnavailableError",
       ("no PC/SC support: the pyscard package is not installed", "нет поддержки PC/SC: не установлен пакет pyscard",
        "no_pyscard"),
       ("no PC/SC service: the smart card service (pcscd) is not running",
        "нет службы PC/SC: служба смарт-карт (pcscd) не запущена"), retriable=True),
    _e("card_io", "signagent.tokens.pcsc.CardIoError",
       ("PC/SC error: {detail}", "ошибка PC/SC: {detail}", "pcsc"),
       ("the card connection is closed", "соединение с картой закрыто", "closed"),
       ("the card answered without a status word", "карта не вернула слово состояния", "no_status"),
       ("smart card communication failed", "ошибка обмена со смарт-картой"), retriable=True),
    _e("card_busy", "signagent.tokens.pcsc.CardBusyError",
       ("the smart card is in use by another program", "смарт-карта занята другой программой"), retriable=True),
    # -- localhost API: consent requests, signing, authentication (issue 12, lead) --
    _e("certificate_not_found", "signagent.service.access.CertificateNotFoundError",
       ("no certificate {cert_id} with a private key on the connected tokens",
        "на подключённых токенах нет сертификата {cert_id} с закрытым ключом", "no_key"),
       ("no certificate {cert_id} on the connected tokens", "на подключённых токенах нет сертификата {cert_id}"),
       ("no such certificate", "нет такого сертификата")),
    _e("another_user", "signagent.service.access.AnotherUserError",
       ("the connection comes from another user of this computer: this agent serves only its own user",
        "подключение от другого пользователя этого компьютера: агент обслуживает только своего пользователя")),
    _e("content_too_large", "signagent.service.access.ContentTooLargeError",
       ("the request body is larger than {limit_mib} MiB: sign the digest of a large file instead",
        "тело запроса больше {limit_mib} МиБ: для большого файла подписывайте его хэш", "body"),
       ("the request holds more than {limit} documents", "в запросе больше {limit} документов", "batch"),
       ("the request is too large", "запрос слишком велик")),
    _e("auth_proof_invalid", "signagent.service.authentication.ProofError",
       ("the proof was made for {got}, not for {expected}", "подтверждение сделано для {got}, а не для {expected}",
        "origin"),
       ("the proof is not for this challenge", "подтверждение сделано не для этого вызова", "challenge"),
       ("the proof's signature does not verify with its certificate",
        "подпись подтверждения не проверяется сертификатом", "signature"),
       ("the proof's algorithm does not fit its certificate's key", "алгоритм подтверждения не подходит к ключу "
        "сертификата", "algorithm"),
       ("the proof's field {field} is missing or not base64", "поле {field} подтверждения отсутствует или не base64",
        "field"),
       ("not a signagent-auth version 1 proof", "это не подтверждение формата signagent-auth версии 1", "format"),
       ("invalid authentication proof", "неверное подтверждение владения ключом")),
    # -- localhost API: audit log (issue 12) --
    _e("audit_log_failed", "signagent.service.audit.AuditLogError",
       ("{path}: cannot append to the audit log: {error}", "{path}: не удаётся дописать журнал аудита", "write"),
       ("{path}: cannot update the audit log's head file: {error}",
        "{path}: не удаётся обновить файл конца журнала аудита", "head"),
       ("cannot write the audit log", "не удаётся записать журнал аудита")),
    # -- localhost API: content preview (issue 12) --
    # -- localhost API: events, diagnostics, watchdog (issue 12) --
    # -- localhost API: autostart (issue 12) --
    _e("autostart_exists", "signagent.service.autostart.AutostartExistsError",
       ("{path} exists and was not written by signagent: it is left as it is",
        "{path} уже существует и записан не signagent: он оставлен без изменений"),
       ("an autostart file not written by signagent is in the way: it is left as it is",
        "на месте файла автозапуска -- файл, записанный не signagent: он оставлен без изменений")),
    _e("autostart_as_root", "signagent.service.autostart.AutostartAsRootError",
       ("the agent must start as the user whose browser and tokens it serves, not as root: run this as that user",
        "агент запускается от имени пользователя, чьи браузер и токены он обслуживает, а не от root: выполните "
        "команду от имени этого пользователя")),
    _e("demo_setup_failed", "signagent.service.demo.DemoSetupError",
       ("the demo could not be prepared: {detail}", "не удалось подготовить демонстрацию: {detail}"),
       ("the demo could not be prepared", "не удалось подготовить демонстрацию")),
    # -- localhost API: validation endpoint (issue 12) --
    _e("online_check_not_allowed", "signagent.api.routes_validate.OnlineCheckNotAllowedError",
       ("a web page cannot make the agent fetch revocation data or certificates from the network: validate "
        "offline (with CRLs in the request) or from a local program",
        "веб-страница не может заставить агента загружать из сети списки отзыва или сертификаты: проверяйте без "
        "сети (передав списки отзыва в запросе) или из локальной программы")),
    # -- registration (issue 14): verifier --
    _e("nonce_store_failed", "signagent.registration.nonces.NonceStoreError",
       ("the nonce store failed: {error}", "ошибка хранилища одноразовых кодов (nonce): {error}"),
       ("the nonce store failed", "ошибка хранилища одноразовых кодов (nonce)"), retriable=True),
    # -- registration (issue 14): request --
    _e("registration_request_invalid", "signagent.registration.problems.RegistrationRequestError",
       ("the registration request is not in canonical form (sorted keys, no whitespace outside strings, absent "
        "optional fields omitted)", "запрос на регистрацию не в канонической форме (ключи по порядку, без пробелов "
        "вне строк, без отсутствующих необязательных полей)", "not_canonical"),
       ("the registration request has {count} problem(s); the first: {path}: {problem}",
        "в запросе на регистрацию ошибок: {count}; первая: {path}: {problem_ru}", "fields"),
       ("the registration request is invalid", "запрос на регистрацию недействителен")),
    # -- registration (issue 14): ЕГРЮЛ/ЕГРИП --
    _e("egr_extract_invalid", "signagent.registration.egr.ExtractFormatError",
       ("{path}: not well-formed XML (line {line}, column {column}): {problem}",
        "{path}: некорректный XML (строка {line}, позиция {column}): {problem}", "not_xml"),
       ("not well-formed XML (line {line}, column {column}): {problem}",
        "некорректный XML (строка {line}, позиция {column}): {problem}", "not_xml"),
       ("{path}: a DOCTYPE or entity declaration is not allowed in an ЕГРЮЛ/ЕГРИП extract",
        "{path}: объявления DOCTYPE и сущностей в выписке ЕГРЮЛ/ЕГРИП запрещены", "doctype"),
       ("a DOCTYPE or entity declaration is not allowed in an ЕГРЮЛ/ЕГРИП extract",
        "объявления DOCTYPE и сущностей в выписке ЕГРЮЛ/ЕГРИП запрещены", "doctype"),
       ("{path}: the declared encoding cannot be read ({problem})",
        "{path}: объявленная кодировка не поддерживается ({problem})", "encoding"),
       ("the declared encoding cannot be read ({problem})", "объявленная кодировка не поддерживается ({problem})",
        "encoding"),
       ("{path}: <{root}> is not an ЕГРЮЛ/ЕГРИП extract (Файл, FNSVipULResponse or FNSVipIPResponse expected)",
        "{path}: <{root}> -- не выписка ЕГРЮЛ/ЕГРИП (ожидается Файл, FNSVipULResponse или FNSVipIPResponse)",
        "unknown_format"),
       ("<{root}> is not an ЕГРЮЛ/ЕГРИП extract (Файл, FNSVipULResponse or FNSVipIPResponse expected)",
        "<{root}> -- не выписка ЕГРЮЛ/ЕГРИП (ожидается Файл, FNSVipULResponse или FNSVipIPResponse)",
        "unknown_format"),
       ("{path}: format version {version} is not read (4.0x expected)",
        "{path}: версия формата {version} не поддерживается (ожидается 4.0x)", "version"),
       ("format version {version} is not read (4.0x expected)",
        "версия формата {version} не поддерживается (ожидается 4.0x)", "version"),
       ("{path}: record {record}: {element} has no attribute {attribute}",
        "{path}: запись {record}: у {element} нет атрибута {attribute}", "missing_attribute"),
       ("record {record}: {element} has no attribute {attribute}",
        "запись {record}: у {element} нет атрибута {attribute}", "missing_attribute"),
       ("{path}: record {record}: {element} @{attribute} {value} is not valid ({problem})",
        "{path}: запись {record}: значение {element} @{attribute} {value} недопустимо", "bad_value"),
       ("record {record}: {element} @{attribute} {value} is not valid ({problem})",
        "запись {record}: значение {element} @{attribute} {value} недопустимо", "bad_value"),
       ("not a readable ЕГРЮЛ/ЕГРИП extract", "не удаётся прочитать выписку ЕГРЮЛ/ЕГРИП")),
    # -- the simulator (pkcs11_sim raises errors of this tree in its command line and store) --
    _e("sim_token_not_found", "pkcs11_sim.store.TokenNotFoundError",
       ("no simulated token labelled {label} in {store}", "нет имитируемого токена с меткой {label} в {store}"),
       ("no simulated token with this label", "нет имитируемого токена с такой меткой")),
    _e("sim_token_exists", "pkcs11_sim.store.TokenExistsError",
       ("a simulated token labelled {label} already exists", "имитируемый токен с меткой {label} уже существует"),
       ("a simulated token with this label already exists", "имитируемый токен с такой меткой уже существует")),
    _e("sim_card_server", "pkcs11_sim.pcsc.server.CardServerError",
       ("the virtual PC/SC card could not be served", "не удалось подключить виртуальную карту PC/SC"),
       retriable=True),
)

#: code -> entry, for every code the project raises.
REGISTRY: dict[str, ErrorEntry] = {e.code: e for e in ENTRIES}


def entry(code: str) -> ErrorEntry | None:
    """The registry entry of ``code``, or None for a code nobody declared (a bug the registry test catches)."""
    return REGISTRY.get(code)


class _Unknown(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


def fill_template(template: str, values: Mapping[str, object]) -> str:
    """``template`` with its ``{name}`` placeholders filled from ``values``; a placeholder without a value shows "?"
    (a report's message must never fail over a detail a check could not supply)."""
    return template.format_map(_Unknown({k: str(v) for k, v in values.items()}))


def render(code: str, details: Mapping[str, object]) -> tuple[str, str] | None:
    """(English, Russian) message of ``code`` for a raise site that gave ``details``, or None for an unknown code.

    The first wording for ``details['situation']`` whose placeholders the details all supply, else the first such
    wording for any situation (the generic last one at worst).
    """
    found = REGISTRY.get(code)
    if found is None:
        return None
    situation = str(details.get("situation", ""))
    # The raise site's own situation first, then the wordings for any situation.
    fitting = [m for m in found.messages if situation and m.situation == situation]
    fitting += [m for m in found.messages if not m.situation]
    for message in fitting:
        if placeholders(message.en) | placeholders(message.ru) <= details.keys():
            return fill_template(message.en, details), fill_template(message.ru, details)
    return found.generic.en, found.generic.ru
