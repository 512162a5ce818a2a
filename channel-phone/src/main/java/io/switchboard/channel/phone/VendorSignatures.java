package io.switchboard.channel.phone;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** The cloud PBXes' own request signatures. Every comparison is constant-time. */
final class VendorSignatures {

    /**
     * Zadarma (https://zadarma.com/en/support/api/#api_webhook): header {@code Signature} =
     * base64(hex(HMAC-SHA1(fields, secret))), where the signed fields depend on the event.
     */
    static boolean zadarma(Map<String, String> form, String secret, String signature) {
        if (signature == null) {
            return false;
        }
        String event = form.getOrDefault("event", "");
        String signed = switch (event) {
            case "NOTIFY_START", "NOTIFY_INTERNAL", "NOTIFY_END" -> v(form, "caller_id") + v(form, "called_did") + v(form, "call_start");
            case "NOTIFY_ANSWER" -> v(form, "caller_id") + v(form, "destination") + v(form, "call_start");
            case "NOTIFY_OUT_START", "NOTIFY_OUT_END" -> v(form, "internal") + v(form, "destination") + v(form, "call_start");
            case "NOTIFY_RECORD" -> v(form, "pbx_call_id") + v(form, "call_id_with_rec");
            default -> null;
        };
        if (signed == null) {
            return false;
        }
        String hex = HexFormat.of().formatHex(hmac("HmacSHA1", secret, signed));
        return equal(Base64.getEncoder().encodeToString(hex.getBytes(StandardCharsets.US_ASCII)), signature.trim());
    }

    /**
     * Mango Office VPBX (https://www.mango-office.ru/upload/api/MangoOffice_VPBX_API_v1.9.pdf):
     * form fields {@code vpbx_api_key}, {@code sign} = hex(SHA-256(key + json + salt)), {@code json}.
     */
    static boolean mango(Map<String, String> form, String apiKey, String salt) {
        String key = form.get("vpbx_api_key");
        String sign = form.get("sign");
        String json = form.get("json");
        if (key == null || sign == null || json == null || !equal(apiKey, key)) {
            return false;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest((key + json + salt).getBytes(StandardCharsets.UTF_8));
            return equal(HexFormat.of().formatHex(digest), sign.trim().toLowerCase(java.util.Locale.ROOT));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Twilio (https://www.twilio.com/docs/usage/security#validating-requests): header
     * {@code X-Twilio-Signature} = base64(HMAC-SHA1(url + each POST name and value sorted by name, auth token)).
     */
    static boolean twilio(Map<String, String> form, String url, String authToken, String signature) {
        if (signature == null || url == null) {
            return false;
        }
        StringBuilder signed = new StringBuilder(url);
        new TreeMap<>(form).forEach((k, v) -> signed.append(k).append(v));
        return equal(Base64.getEncoder().encodeToString(hmac("HmacSHA1", authToken, signed.toString())), signature.trim());
    }

    static byte[] hmac(String algorithm, String secret, String data) {
        try {
            Mac mac = Mac.getInstance(algorithm);
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), algorithm));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean equal(String expected, String given) {
        if (expected == null || expected.isEmpty() || given == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    private static String v(Map<String, String> form, String name) {
        return form.getOrDefault(name, "");
    }

    private VendorSignatures() {
    }
}
