package io.switchboard.api.conversations;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.net.http.HttpResponse;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Users (list, roles, disable/enable, password reset), configured channel accounts, and what the audit records. */
class AdminApiTest extends ApiTestBase {

    @Test
    void adminsListUsers_changeRoles_disableAndEnable_andResetPasswords() throws Exception {
        user("ua-olga", "olga-password-1", "agent");
        JsonNode users = json(admin("GET", "/api/admin/users", null));
        JsonNode olga = users.valueStream().filter(u -> u.get("username").asString().equals("ua-olga")).findFirst().orElseThrow();
        assertThat(olga.get("roles").valueStream().map(JsonNode::asString).toList()).containsExactly("agent");
        assertThat(olga.get("enabled").asBoolean()).isTrue();
        assertThat(admin("GET", "/api/admin/users", null).body()).doesNotContain("passwordHash").doesNotContain("$2a$");

        // roles: an agent becomes an operator (still no admin)
        JsonNode changed = json(admin("PATCH", "/api/admin/users/ua-olga", "{\"roles\":[\"operator\",\"agent\"]}"));
        assertThat(changed.get("roles").valueStream().map(JsonNode::asString).toList()).containsExactly("operator", "agent");
        assertThat(call("GET", "/api/admin/users", "ua-olga", "olga-password-1", null).statusCode()).isEqualTo(403);

        // disabled: refused at once (the sign-in cache checks the flag), enabled again: back in
        assertThat(call("GET", "/api/me", "ua-olga", "olga-password-1", null).statusCode()).isEqualTo(200);
        assertThat(json(admin("PATCH", "/api/admin/users/ua-olga", "{\"enabled\":false}")).get("enabled").asBoolean()).isFalse();
        assertThat(call("GET", "/api/me", "ua-olga", "olga-password-1", null).statusCode()).isEqualTo(401);
        json(admin("PATCH", "/api/admin/users/ua-olga", "{\"enabled\":true}"));
        assertThat(call("GET", "/api/me", "ua-olga", "olga-password-1", null).statusCode()).isEqualTo(200);

        // a new password replaces the old one at once
        assertThat(admin("PUT", "/api/admin/users/ua-olga/password", "{\"password\":\"olga-new-password\"}").statusCode()).isEqualTo(204);
        assertThat(call("GET", "/api/me", "ua-olga", "olga-password-1", null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/api/me", "ua-olga", "olga-new-password", null).statusCode()).isEqualTo(200);

        // refusals
        assertThat(admin("PUT", "/api/admin/users/ua-olga/password", "{\"password\":\"short\"}").statusCode()).isEqualTo(400);
        assertThat(admin("PUT", "/api/admin/users/nobody-here/password", "{\"password\":\"long-enough-1\"}").statusCode()).isEqualTo(404);
        assertThat(admin("PATCH", "/api/admin/users/nobody-here", "{\"enabled\":false}").statusCode()).isEqualTo(404);
        assertThat(admin("PATCH", "/api/admin/users/ua-olga", "{\"roles\":[\"king\"]}").statusCode()).isEqualTo(400);
        assertThat(admin("PATCH", "/api/admin/users/ua-olga", "{\"roles\":[]}").statusCode()).isEqualTo(400);
        assertThat(admin("PATCH", "/api/admin/users/ua-olga", "{\"password\":\"x\"}").statusCode()).isEqualTo(400);
        assertThat(admin("PATCH", "/api/admin/users/ua-olga", "{\"enabled\":\"no\"}").statusCode()).isEqualTo(400);
        assertThat(admin("PATCH", "/api/admin/users/admin", "{\"roles\":[\"agent\"]}").statusCode()).as("own admin role").isEqualTo(400);
        assertThat(admin("PATCH", "/api/admin/users/admin", "{\"enabled\":false}").statusCode()).as("disable oneself").isEqualTo(400);
        assertThat(call("PATCH", "/api/admin/users/admin", "ua-olga", "olga-new-password", "{\"enabled\":false}").statusCode())
                .isEqualTo(403);

        // the audit says what changed: field names and new values, never a password
        JsonNode audit = json(admin("GET", "/api/admin/audit?limit=50", null));
        List<JsonNode> olgas = audit.valueStream().filter(e -> e.get("target").asString().startsWith("/api/admin/users/ua-olga")).toList();
        assertThat(olgas).anySatisfy(e -> {
            assertThat(e.get("action").asString()).isEqualTo("PATCH");
            assertThat(e.get("changes").path("roles").valueStream().map(JsonNode::asString).toList()).containsExactly("operator", "agent");
        });
        assertThat(olgas).anySatisfy(e -> assertThat(e.get("changes").path("enabled").asString("")).isEqualTo("false"));
        assertThat(olgas).anySatisfy(e -> {
            assertThat(e.get("target").asString()).isEqualTo("/api/admin/users/ua-olga/password");
            assertThat(e.get("changes").path("password").asString("")).isEqualTo("(set)");
        });
        assertThat(audit.valueStream().filter(e -> e.get("target").asString().equals("/api/admin/users")
                && e.get("changes").path("username").asString().equals("ua-olga")).findFirst().orElseThrow()
                .get("changes").get("roles").valueStream().map(JsonNode::asString).toList()).containsExactly("agent");
        String raw = admin("GET", "/api/admin/audit?limit=200", null).body();
        assertThat(raw).doesNotContain("olga-new-password").doesNotContain("olga-password-1");
        assertThat(olgas.stream().filter(e -> e.get("status").asInt() >= 400)).as("refused changes are not audited").isEmpty();
    }

    @Test
    void cannedAnswerChangesAreAuditedWithTheirNewValues() throws Exception {
        json(admin("PUT", "/api/admin/canned/audit-canned", "{\"topic\":\"quotas\",\"lang\":\"en\",\"title\":\"Quota\","
                + "\"text\":\"We raised it.\",\"keywords\":[\"quota\"]}"));
        JsonNode entry = json(admin("GET", "/api/admin/audit?limit=50", null)).valueStream()
                .filter(e -> e.get("target").asString().equals("/api/admin/canned/audit-canned")).findFirst().orElseThrow();
        assertThat(entry.get("changes").get("title").asString()).isEqualTo("Quota");
        assertThat(entry.get("changes").get("text").asString()).isEqualTo("We raised it.");
        admin("DELETE", "/api/admin/canned/audit-canned", null);
    }

    @Test
    void configuredChannelAccountsAreListedByNameAndMode_withoutSecrets() throws Exception {
        HttpResponse<String> r = admin("GET", "/api/admin/channels", null);
        JsonNode channels = json(r);
        assertThat(channels.findValuesAsString("channel")).containsExactly("email", "telegram", "vk", "facebook", "phone", "webform");
        assertThat(accounts(channels, "telegram")).containsExactly("shop:webhook"); // "idle" has no token: off
        assertThat(accounts(channels, "email")).containsExactly("support:imap+smtp");
        assertThat(accounts(channels, "vk")).containsExactly("community:longpoll");
        assertThat(accounts(channels, "facebook")).isEmpty();
        assertThat(accounts(channels, "webform")).containsExactly("default:form");
        assertThat(r.body()).doesNotContain("tg-secret-token", "tg-hook-secret", "mail-password", "imap.example.org", "vk-secret-token");
        user("ua-agent", "agent-password-1", "agent");
        assertThat(call("GET", "/api/admin/channels", "ua-agent", "agent-password-1", null).statusCode()).isEqualTo(403);
    }

    @Test
    void aBrowserSessionEndsWhenItsUserIsDisabledOrGetsOtherRoles() throws Exception {
        user("ua-session", "session-password-1", "operator");
        var browser = signedIn("ua-session", "session-password-1");
        assertThat(browser.get("/api/me").statusCode()).isEqualTo(200);
        json(admin("PATCH", "/api/admin/users/ua-session", "{\"roles\":[\"agent\"]}"));
        assertThat(browser.get("/api/me").statusCode()).as("roles changed: sign in again").isEqualTo(401);

        var again = signedIn("ua-session", "session-password-1");
        assertThat(again.get("/api/me").statusCode()).isEqualTo(200);
        json(admin("PATCH", "/api/admin/users/ua-session", "{\"enabled\":false}"));
        assertThat(again.get("/api/me").statusCode()).as("disabled").isEqualTo(401);
        assertThat(again.get("/").statusCode()).as("the workspace sends to the login page").isEqualTo(302);
    }

    /** A browser's cookie jar after signing in through the login form. */
    private Browser signedIn(String user, String password) throws Exception {
        var cookies = new java.net.CookieManager();
        var client = java.net.http.HttpClient.newBuilder().cookieHandler(cookies).build();
        String base = "http://127.0.0.1:" + port;
        var page = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/login")).build(),
                HttpResponse.BodyHandlers.ofString());
        var m = java.util.regex.Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(page.body());
        assertThat(m.find()).isTrue();
        var login = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("username=" + user + "&password=" + password
                        + "&_csrf=" + java.net.URLEncoder.encode(m.group(1), "UTF-8"))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).isEqualTo(302);
        assertThat(login.headers().firstValue("Location").orElse("")).doesNotContain("error");
        return new Browser(client, base);
    }

    record Browser(java.net.http.HttpClient client, String base) {
        HttpResponse<String> get(String path) throws Exception {
            return client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    private static List<String> accounts(JsonNode channels, String channel) {
        return channels.valueStream().filter(c -> c.get("channel").asString().equals(channel)).findFirst().orElseThrow()
                .get("accounts").valueStream().map(a -> a.get("name").asString() + ":" + a.get("mode").asString()).toList();
    }
}
