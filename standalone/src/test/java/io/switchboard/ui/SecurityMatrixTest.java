package io.switchboard.ui;

import io.switchboard.api.security.Access;
import io.switchboard.api.security.EndpointRules;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.web.servlet.handler.AbstractHandlerMethodMapping;
import org.springframework.web.servlet.handler.AbstractUrlHandlerMapping;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may do what, for every endpoint of the whole product: each handler method (controllers and the
 * actuator), resource pattern and static file must be decided by a rule of {@link EndpointRules} that
 * names it: a new endpoint that only a wildcard backstop catches fails here. Each rule is tried over
 * HTTP as nobody, an agent, an operator and an admin.
 */
class SecurityMatrixTest {

    static RunningProduct product;

    record Endpoint(HttpMethod method, String pattern, String handler) {
    }

    @BeforeAll
    static void start() {
        product = RunningProduct.get();
        product.user("matrix-agent", "agent-password-1", "agent");
        product.user("matrix-operator", "operator-password-1", "operator");
    }

    /**
     * Every way into the product's web server: the handler methods of every request mapping (controllers
     * of all modules, and the actuator's endpoints), the static resource handlers' patterns, and each
     * static file the catch-all resource handler ({@code /**}) would serve.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static List<Endpoint> endpoints() {
        List<Endpoint> all = new ArrayList<>();
        for (var entry : product.app.getBeansOfType(AbstractHandlerMethodMapping.class).entrySet()) {
            Map<Object, HandlerMethod> methods = entry.getValue().getHandlerMethods();
            for (Map.Entry<Object, HandlerMethod> e : methods.entrySet()) {
                if (!(e.getKey() instanceof RequestMappingInfo info)) {
                    continue;
                }
                Set<org.springframework.web.bind.annotation.RequestMethod> verbs = info.getMethodsCondition().getMethods();
                List<HttpMethod> httpMethods = verbs.isEmpty()
                        ? List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE)
                        : verbs.stream().map(m -> HttpMethod.valueOf(m.name())).toList();
                for (String pattern : info.getPatternValues()) {
                    for (HttpMethod m : httpMethods) {
                        all.add(new Endpoint(m, pattern, entry.getKey() + ": " + e.getValue().getShortLogMessage()));
                    }
                }
            }
        }
        for (var entry : product.app.getBeansOfType(AbstractUrlHandlerMapping.class).entrySet()) {
            for (String pattern : ((Map<String, Object>) entry.getValue().getHandlerMap()).keySet()) {
                if (!pattern.equals("/**")) {
                    all.add(new Endpoint(HttpMethod.GET, pattern, entry.getKey()));
                    continue;
                }
                try {
                    for (Resource r : new PathMatchingResourcePatternResolver().getResources("classpath*:static/**/*.*")) {
                        String url = r.getURL().toString();
                        all.add(new Endpoint(HttpMethod.GET, url.substring(url.lastIndexOf("/static/") + "/static".length()),
                                "static file via " + entry.getKey()));
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }
        return all;
    }

    @Test
    void everyEndpointOfTheProductHasARuleNamingIt_wildcardsDoNotCount() {
        List<Endpoint> endpoints = endpoints();
        assertThat(endpoints).extracting(Endpoint::pattern)
                .contains("/api/conversations", "/api/conversations/{id}/messages", "/api/admin/users", "/", "/dashboard",
                        "/webhooks/telegram/{account}", "/api/admin/channels", "/actuator/health", "/actuator/prometheus",
                        "/actuator/metrics/{requiredMetricName}", "/webjars/**", "/ui/app.css");
        List<String> uncovered = endpoints.stream()
                .filter(e -> EndpointRules.ruleFor(e.method(), e.pattern())
                        .filter(r -> r.names(e.pattern()) || staticFileUnderItsDirectory(r, e)).isEmpty())
                .map(e -> e.method() + " " + e.pattern() + " (" + e.handler() + ") decided by "
                        + EndpointRules.ruleFor(e.method(), e.pattern()).map(EndpointRules.Rule::pattern).orElse("nothing"))
                .toList();
        assertThat(uncovered).as("endpoints without a rule of their own in EndpointRules (first match decides)").isEmpty();
    }

    /** A static file is decided by its directory's public rule ("/ui/**"): files are assets, not endpoints. */
    private static boolean staticFileUnderItsDirectory(EndpointRules.Rule rule, Endpoint e) {
        return e.handler().startsWith("static file") && rule.access() == Access.PUBLIC && rule.pattern().endsWith("/**");
    }

    @Test
    void healthIsOpenWithoutDetails_detailsAndMetricsAreNot() {
        for (String probe : List.of("/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness")) {
            HttpResponse<String> anonymous = product.send("GET", probe, null, null);
            assertThat(anonymous.statusCode()).as(probe).isEqualTo(200);
            assertThat(RunningProduct.JSON.readTree(anonymous.body())).as(probe)
                    .isEqualTo(RunningProduct.JSON.readTree("{\"status\":\"UP\"}"));
        }
        String agent = RunningProduct.basic("matrix-agent", "agent-password-1");
        assertThat(product.send("GET", "/actuator/health", null, agent).body()).doesNotContain("components");
        String admin = RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD);
        assertThat(RunningProduct.JSON.readTree(product.send("GET", "/actuator/health", null, admin).body())
                .path("components").path("kafka").path("status").asString()).isEqualTo("UP");
        assertThat(product.send("GET", "/actuator/health/kafka", null, null).statusCode()).isEqualTo(401);

        // Prometheus: the scraper's token or an admin; the token opens nothing else
        String scraper = "Bearer " + RunningProduct.METRICS_TOKEN;
        assertThat(product.send("GET", "/actuator/prometheus", null, null).statusCode()).isEqualTo(401);
        assertThat(product.send("GET", "/actuator/prometheus", null, agent).statusCode()).isEqualTo(403);
        assertThat(product.send("GET", "/actuator/prometheus", null, "Bearer not-the-token").statusCode()).isEqualTo(401);
        HttpResponse<String> scrape = product.send("GET", "/actuator/prometheus", null, scraper);
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.body()).contains("jvm_memory_used_bytes");
        assertThat(product.send("GET", "/actuator/prometheus", null, admin).statusCode()).isEqualTo(200);
        assertThat(product.send("GET", "/actuator/metrics", null, scraper).statusCode()).isEqualTo(403);
        assertThat(product.send("GET", "/api/me", null, scraper).statusCode()).isEqualTo(401);
        assertThat(product.send("GET", "/actuator/metrics", null, null).statusCode()).isEqualTo(401);
    }

    @Test
    void eachRuleHoldsOverHttpForNobodyAgentOperatorAndAdmin() {
        String agent = RunningProduct.basic("matrix-agent", "agent-password-1");
        String operator = RunningProduct.basic("matrix-operator", "operator-password-1");
        String admin = RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD);
        List<String> wrong = new ArrayList<>();
        for (Endpoint e : endpoints()) {
            Access access = EndpointRules.ruleFor(e.method(), e.pattern()).orElseThrow().access();
            if (access == Access.PUBLIC || e.pattern().equals("/api/stream")) {
                continue; // open by design (each has its own checks); the stream is tried below
            }
            String path = e.pattern().replaceAll("\\{[^}]+}", "x").replace("/**", "/x");
            boolean api = path.startsWith("/api/") || path.startsWith("/v3/") || path.startsWith("/actuator");
            String body = e.method() == HttpMethod.GET || e.method() == HttpMethod.DELETE ? null : "{}";
            check(wrong, e, "nobody", product.send(e.method().name(), path, body, null), false, api);
            check(wrong, e, "agent", product.send(e.method().name(), path, body, agent), access == Access.AGENT, api);
            check(wrong, e, "operator", product.send(e.method().name(), path, body, operator),
                    access == Access.AGENT || access == Access.OPERATOR, api);
            check(wrong, e, "admin", product.send(e.method().name(), path, body, admin), true, api);
        }
        assertThat(wrong).isEmpty();
    }

    private static void check(List<String> wrong, Endpoint e, String who, HttpResponse<String> r, boolean allowed, boolean api) {
        int s = r.statusCode();
        boolean refused = s == 401 || s == 403 || (!api && s == 302 && r.headers().firstValue("Location").orElse("").contains("/login"));
        if (allowed == refused) {
            wrong.add(who + " " + e.method() + " " + e.pattern() + " -> " + s + (allowed ? " (should pass)" : " (should be refused)"));
        }
    }

    @Test
    void theLiveStreamNeedsAUser_andApiTokensActAsTheirOwner() {
        assertThat(product.send("GET", "/api/stream", null, null).statusCode()).isEqualTo(401);
        String agent = RunningProduct.basic("matrix-agent", "agent-password-1");
        HttpResponse<String> created = product.send("POST", "/api/tokens", "{\"name\":\"ci\"}", agent);
        assertThat(created.statusCode()).isEqualTo(201);
        String token = RunningProduct.JSON.readTree(created.body()).path("token").asString();
        String id = RunningProduct.JSON.readTree(created.body()).path("id").asString();
        assertThat(token).startsWith("sbt_");
        HttpResponse<String> me = product.send("GET", "/api/me", null, "Bearer " + token);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(me.body()).contains("\"username\":\"matrix-agent\"");
        assertThat(product.send("GET", "/api/admin/audit", null, "Bearer " + token).statusCode()).isEqualTo(403);
        assertThat(product.send("GET", "/api/me", null, "Bearer sbt_forged").statusCode()).isEqualTo(401);
        assertThat(product.send("DELETE", "/api/tokens/" + id, null, agent).statusCode()).isEqualTo(204);
        assertThat(product.send("GET", "/api/me", null, "Bearer " + token).statusCode()).isEqualTo(401);
    }

    @Test
    void adminChangesAreAudited_withWhoWhatAndWhen() {
        product.admin("PUT", "/api/admin/canned/audit-probe",
                "{\"topic\":\"probe\",\"lang\":\"en\",\"title\":\"Probe\",\"text\":\"Probe text\",\"keywords\":[\"probe\"]}");
        RunningProduct.await(() -> {
            var audit = product.admin("GET", "/api/admin/audit", null);
            for (var entry : audit) {
                if (entry.path("target").asString().equals("/api/admin/canned/audit-probe")) {
                    return entry.path("user").asString().equals("admin") && entry.path("action").asString().equals("PUT")
                            && !entry.path("at").asString().isEmpty();
                }
            }
            return false;
        }, Duration.ofSeconds(5));
        product.admin("DELETE", "/api/admin/canned/audit-probe", null);
    }

    @Test
    void apiChangesByBasicNeedNoCsrf_butASessionWithoutTheTokenIsRefused() throws Exception {
        // Basic: scripts and the contract suite
        String admin = RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD);
        assertThat(product.send("POST", "/api/conversations/x/notes", "{\"text\":\"n\"}", admin).statusCode()).isEqualTo(404);
        // a browser session: sign in through the form, then try a change without the CSRF token
        var cookies = new java.net.CookieManager();
        var browser = java.net.http.HttpClient.newBuilder().cookieHandler(cookies).build();
        var loginPage = browser.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(product.base + "/login")).build(),
                HttpResponse.BodyHandlers.ofString());
        var m = java.util.regex.Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(loginPage.body());
        assertThat(m.find()).isTrue();
        var login = browser.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(product.base + "/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("username=admin&password="
                        + RunningProduct.ADMIN_PASSWORD + "&_csrf=" + java.net.URLEncoder.encode(m.group(1), "UTF-8"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).isEqualTo(302);
        var read = browser.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(product.base + "/api/me")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(read.statusCode()).isEqualTo(200);
        var forged = browser.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(product.base + "/api/tokens"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).isEqualTo(403);
    }
}
